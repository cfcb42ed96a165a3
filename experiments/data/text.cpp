// Reading data files with their checks (size, encoding), UTF-8, lines, numbers and the split rule
// (text.h), plus the public text helpers: default_data_dir, tokenize, utf8_chars.
#include "experiments/data/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <system_error>

namespace seqgrad::experiments::data {

namespace detail {

void fail(const fs::path& file, const std::string& problem) {
  throw std::runtime_error(printable(file.string()) + ": " + problem);
}
void fail(const fs::path& file, int64_t line, const std::string& problem) {
  throw std::runtime_error(printable(file.string()) + ":" + std::to_string(line) + ": " + problem);
}

std::string quote(std::string_view s) {
  std::string out(1, '\'');
  out += printable(s.substr(0, 40));
  if (s.size() > 40) out += "...";
  return out += '\'';
}

namespace {

// Throws when the bytes start with a UTF-16 or UTF-32 byte order mark.
void reject_wide_bom(std::string_view bytes, const fs::path& file) {
  using namespace std::string_view_literals;
  static const std::pair<std::string_view, const char*> boms[] = {{"\xFF\xFE\0\0"sv, "UTF-32LE"},
                                                                  {"\0\0\xFE\xFF"sv, "UTF-32BE"},
                                                                  {"\xFF\xFE"sv, "UTF-16LE"},
                                                                  {"\xFE\xFF"sv, "UTF-16BE"}};
  for (const auto& [bom, name] : boms)
    if (starts_with(bytes, bom))
      fail(file,
           std::string("starts with a ") + name + " byte order mark: the loaders read UTF-8 only; save it as UTF-8");
}

// Throws at the first NUL byte, saying whether the file looks like UTF-16/UTF-32 (many NULs) or binary.
void reject_nul(std::string_view bytes, const fs::path& file) {
  const size_t at = bytes.find('\0');
  if (at == std::string_view::npos) return;
  const auto line = 1 + std::count(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  const std::string_view head = bytes.substr(0, 1024);
  const bool wide = std::count(head.begin(), head.end(), '\0') * 4 >= static_cast<std::ptrdiff_t>(head.size());
  fail(file, "NUL byte at offset " + std::to_string(at) + " (line " + std::to_string(line) + "): " +
                 (wide ? "the file looks like UTF-16 or UTF-32; save it as UTF-8"
                       : "text holds no NUL bytes (a binary file?); save the text as UTF-8"));
}

// Throws "<file>:<line>: invalid UTF-8 ..." at the first invalid sequence.
void check_utf8(std::string_view s, const fs::path& file) {
  int64_t line = 1;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '\n') ++line;
    const size_t n = decode_utf8(s, i).length;
    if (n == 0)
      fail(file, line,
           "invalid UTF-8 (byte " + quote(s.substr(i, 1)) + " at byte offset " + std::to_string(i) +
               "); save the file as UTF-8");
    i += n;
  }
}

}  // namespace

std::string read_text(const fs::path& file, const LoadOptions& options) {
  std::string bytes = read_file(file, options.max_bytes);
  reject_wide_bom(bytes, file);
  reject_nul(bytes, file);
  check_utf8(bytes, file);
  if (starts_with(bytes, "\xEF\xBB\xBF")) bytes.erase(0, 3);
  return bytes;
}

std::string read_standard(const fs::path& file, const LoadOptions& options) {
  std::error_code ec;
  if (!fs::exists(file, ec)) fail(file, std::string("file not found; ") + kFetchHint);
  return read_text(file, options);
}

void rethrow_with_fetch_hint(const std::exception& e) {
  throw std::runtime_error(std::string(e.what()) + " (a standard data file: " + kFetchHint + " to fetch it again)");
}

CodePoint decode_utf8(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return {1, c};
  size_t n = 0;
  char32_t cp = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, cp = c & 0x07;
  } else {
    return {};
  }
  if (i + n > s.size()) return {};
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return {};
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {};
  return {n, cp};
}

std::vector<std::pair<int64_t, std::string_view>> split_lines(std::string_view s) {
  std::vector<std::pair<int64_t, std::string_view>> lines;
  int64_t number = 1;
  while (!s.empty()) {
    const size_t end = s.find('\n');
    std::string_view line = s.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(number++, line);
    if (end == std::string_view::npos) break;
    s.remove_prefix(end + 1);
  }
  return lines;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v'; });
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::optional<double> read_number(std::string_view field) {
  field = trim(field);
  if (!field.empty() && field.front() == '+') field.remove_prefix(1);
  if (field.empty()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (end != field.data() + field.size() || (ec != std::errc() && ec != std::errc::result_out_of_range))
    return std::nullopt;
  return ec == std::errc() ? value : std::numeric_limits<double>::quiet_NaN();
}

std::optional<double> parse_number(std::string_view field) {
  auto value = read_number(field);
  if (!value || !std::isfinite(*value)) return std::nullopt;
  return value;
}

std::optional<int> parse_int(std::string_view field) {
  field = trim(field);
  int value = 0;
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (field.empty() || ec != std::errc() || end != field.data() + field.size()) return std::nullopt;
  return value;
}

void require_splittable(const fs::path& file, size_t records, const std::string& what) {
  if (records < 10)
    fail(file, "too few " + what + " (" + std::to_string(records) +
                   ") to split into train / validation / test (the split rule needs at least 10)");
}

void require_count(const fs::path& file, int64_t n, int64_t expected, const std::string& what) {
  if (n != expected)
    fail(file, with_commas(n) + " " + what + ", expected " + with_commas(expected) +
                   " (truncated, edited or a different version); " + kFetchHint + " to fetch it again");
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

}  // namespace detail

using namespace detail;

fs::path default_data_dir() {
  if (const char* env = std::getenv("SEQGRAD_DATA_DIR"); env && *env) return fs::path(env);
  std::error_code ec;
  fs::path dir = fs::current_path(ec);
  if (!ec) {
    for (int up = 0; up < 8 && !dir.empty(); ++up) {
      if (fs::exists(dir / "scripts" / "fetch_data.sh", ec)) return dir / "data";
      if (dir == dir.parent_path()) break;
      dir = dir.parent_path();
    }
  }
  return fs::path("data");
}

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  auto flush = [&] {
    const size_t b = current.find_first_not_of('\'');
    if (b != std::string::npos) tokens.push_back(current.substr(b, current.find_last_not_of('\'') - b + 1));
    current.clear();
  };
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    const bool word = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'';
    if (c >= 'A' && c <= 'Z') {
      current += static_cast<char>(c - 'A' + 'a');
    } else if (word) {
      current += ch;
    } else if (!current.empty()) {
      flush();
    }
  }
  if (!current.empty()) flush();
  return tokens;
}

std::vector<std::string> utf8_chars(std::string_view text, std::string_view what) {
  check_utf8(text, fs::path(std::string(what)));
  std::vector<std::string> chars;
  for (size_t i = 0; i < text.size();) {
    const size_t n = decode_utf8(text, i).length;
    chars.emplace_back(text.substr(i, n));
    i += n;
  }
  return chars;
}

}  // namespace seqgrad::experiments::data
