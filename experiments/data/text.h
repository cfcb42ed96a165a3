// Internal to the loaders in experiments/data/ (not a public header): reading a data file with every
// check a user's file needs (regular file, size cap, encoding), lines, numbers, quoting for messages,
// the 80/10/10 split rule and the summaries' number formatting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "experiments/data/data.h"

namespace seqgrad::experiments::data::detail {

inline constexpr const char* kFetchHint = "run scripts/fetch_data.sh";

// Throw std::runtime_error "<file>: <problem>" / "<file>:<line>: <problem>", the file name printable.
[[noreturn]] void fail(const fs::path& file, const std::string& problem);
[[noreturn]] void fail(const fs::path& file, int64_t line, const std::string& problem);

// A piece of input for a message: single-quoted, at most 40 bytes, every byte that is not printable
// ASCII as \xNN.
std::string quote(std::string_view s);

// A user's text file (through io.h's read_file: no devices or pipes, at most options.max_bytes),
// checked: no UTF-16/UTF-32 byte order mark, no NUL byte, valid UTF-8. A UTF-8 BOM is removed.
std::string read_text(const fs::path& file, const LoadOptions& options);
// A standard data file: as read_text, but a missing file says "run scripts/fetch_data.sh".
std::string read_standard(const fs::path& file, const LoadOptions& options);
// Rethrows an error met while parsing a standard file with the fetch hint appended.
[[noreturn]] void rethrow_with_fetch_hint(const std::exception& e);

// Length of the valid UTF-8 sequence at s[i] and its code point; length 0 if invalid (overlong,
// surrogate, above U+10FFFF, truncated).
struct CodePoint {
  size_t length = 0;
  char32_t value = 0;
};
CodePoint decode_utf8(std::string_view s, size_t i);

// Lines numbered from 1, without their "\n" or "\r\n"; a final '\n' starts no extra line.
std::vector<std::pair<int64_t, std::string_view>> split_lines(std::string_view s);

std::string_view trim(std::string_view s);  // spaces and tabs at both ends
bool is_blank(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);

// A whole field written as a number (spaces and a leading '+' allowed); nullopt when it is not one.
// "nan"/"inf" read as such; out of double's range ("1e999") reads as NaN.
std::optional<double> read_number(std::string_view field);
std::optional<double> parse_number(std::string_view field);  // finite numbers only
std::optional<int> parse_int(std::string_view field);

// The split rule for record n (from 1): 0 train, 1 val (n % 10 == 9), 2 test (n % 10 == 0).
inline int split_of(int64_t n) { return n % 10 == 9 ? 1 : (n % 10 == 0 ? 2 : 0); }

// A user's file split by the rule needs >= 10 records, or the test split would be empty.
void require_splittable(const fs::path& file, size_t records, const std::string& what);

// Items in file order dealt to train / val / test by the split rule.
template <class T>
void distribute(std::vector<T>&& items, std::vector<T>& train, std::vector<T>& val, std::vector<T>& test) {
  for (size_t i = 0; i < items.size(); ++i) {
    const int s = split_of(static_cast<int64_t>(i) + 1);
    (s == 0 ? train : s == 1 ? val : test).push_back(std::move(items[i]));
  }
}

// Standard-file count check: throws "<file>: <n> <what>, expected <expected> ...; run
// scripts/fetch_data.sh" when they differ.
void require_count(const fs::path& file, int64_t n, int64_t expected, const std::string& what);

// "1,190,317": counts in summaries.
std::string with_commas(int64_t n);

}  // namespace seqgrad::experiments::data::detail
