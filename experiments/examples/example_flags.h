// The one flag helper the examples share (they parse their few flags by hand, to stay short).
#pragma once

#include <charconv>
#include <stdexcept>
#include <string>

// `value` of `flag` as a positive int; throws "<flag>: expected a positive integer, got '<value>'".
inline int parse_positive(const std::string& flag, const char* value) {
  int v = 0;
  const char* end = value + std::string(value).size();
  auto [p, ec] = std::from_chars(value, end, v);
  if (ec != std::errc() || p != end || v <= 0)
    throw std::invalid_argument(flag + ": expected a positive integer, got '" + value + "'");
  return v;
}
