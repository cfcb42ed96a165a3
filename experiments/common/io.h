// Text and file helpers every study shares: ONE whole-file reader (with the checks a user's file
// needs), one CSV-line splitter, the JSON reader's error wrapper, shortest round-trip numbers, and
// the few shell helpers the run folder and plots need.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "nn/io/json.h"

namespace seqgrad::experiments {

namespace fs = std::filesystem;

// Whole regular file as bytes. Throws std::runtime_error "<path>: <problem>" when it does not exist
// ("file not found"), is a folder, a device or pipe ("not a regular file", so /dev/zero cannot hang a
// run), is larger than max_bytes, or cannot be read.
void require_regular_file(const fs::path& path);            // the checks above, without reading
inline constexpr int64_t kMaxFileBytes = int64_t(1) << 30;  // 1 GiB
std::string read_file(const fs::path& path, int64_t max_bytes = kMaxFileBytes);
// Writes `text` to `path` atomically (temporary file + rename), creating parent folders.
void write_file(const fs::path& path, const std::string& text);

// The fields of one CSV line as CsvLog writes it: comma-separated, a field in double quotes may hold
// commas and doubled quotes (""). Throws std::invalid_argument on an unterminated quote.
std::vector<std::string> split_csv_line(std::string_view line);

// A parsed JSON value (nn/io/json.h): numbers keep their source text, objects their key order.
using Json = nn::Json;
using nn::json_quote;
// Throws std::invalid_argument("<what>: <problem> at line L, column C") on malformed input.
Json parse_json(std::string_view text, const std::string& what = "json");
Json read_json_file(const fs::path& path);

// Shortest text that reads back to the same double (std::to_chars), so CSV and JSON metrics are
// bit-comparable; "nan", "inf", "-inf" for non-finite values.
std::string format_number(double v);
// v with `digits` significant digits (%g style: 0.00521, 117.4, 1.15e+19), for claims and logs.
std::string fmt(double v, int digits = 4);
// Text for a message: printable ASCII as is, every other byte as \xNN (so a user's file name or a
// bad field never puts raw bytes or control characters on the terminal).
std::string printable(std::string_view s);

std::string trim(std::string s);
std::string first_line(const std::string& s);
// Names used as file names: letters, digits, '_', '-', '.', not starting with '.'; else throws
// "<what> '<name>': use letters, digits, '_', '-' and '.' only".
void check_name(const std::string& what, const std::string& name);

// `s` single-quoted for /bin/sh.
std::string shell_quote(const std::string& s);
struct CommandResult {
  int status = -1;  // exit code, -1 when the command could not run or was killed
  std::string output;
};
// Runs a /bin/sh command, capturing its stdout (add 2>&1 for stderr).
CommandResult run_command(const std::string& command);
// Lowercase hex SHA-256 of a file by coreutils' sha256sum (the same tool scripts/fetch_data.sh
// verifies the data with); throws naming the file when it cannot be read.
std::string sha256_file(const fs::path& file);

}  // namespace seqgrad::experiments
