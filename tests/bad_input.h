// The bad-input batteries' one check (tests/test_bad_input.cpp, experiments/common/test_bad_input.cpp):
// each case must throw a one-line message that names the file or option AND the problem.
#pragma once

#include <catch2/catch.hpp>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace seqgrad::testing {

using Action = std::function<void()>;

// One bad input: what it is, what to do with it, and what the error must say.
struct Case {
  std::string label;
  Action action;
  std::vector<std::string> says;
};

// The message of the exception `action` throws; "" when it throws none.
inline std::string error_of(const Action& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Every case throws a message of one line that contains all of its `says`.
inline void require_errors(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const std::string message = error_of(c.action);
    INFO(c.label << " -> " << (message.empty() ? "<no error>" : message));
    CHECK_FALSE(message.empty());
    CHECK(message.find('\n') == std::string::npos);
    for (const std::string& s : c.says) CHECK(message.find(s) != std::string::npos);
  }
}

}  // namespace seqgrad::testing
