// The one JSON reader of seqgrad (RFC 8259, strict): safetensors headers, the sentiment data files,
// and the experiments' metrics.json / claims.json / env.json. Numbers keep their source text (so a
// metric is shown exactly as written); every value knows the line it starts on; duplicate keys and
// nesting beyond a limit are errors. It does not check UTF-8: callers that need valid text check
// the bytes first.
//
// Why not nlohmann-json (Debian's nlohmann-json3-dev is 3.11.2), decided 2026-12-02 (issue 15): this
// reader exists for three things that version cannot do. (1) Every value knows its line, so an
// error in a user's data file names the line of the offending record (the sentiment loader); nlohmann gives
// positions only for syntax errors (value positions, JSON_DIAGNOSTIC_POSITIONS, arrived in 3.12).
// (2) Duplicate keys are an error; nlohmann keeps the last one silently, which in a safetensors
// header would let two entries for one tensor disagree with what another reader sees. (3) Numbers
// keep their source text, so the report prints a metric exactly as written. Rebuilding those on
// nlohmann's SAX interface would not be shorter than the ~300 lines here, which the fuzz targets
// (json, safetensors, sentiment) cover. Writing needs no library: json_quote plus our formatting.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace seqgrad::nn {

struct Json {
  enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
  bool boolean = false;
  std::string text;                                   // number: its source text; string: decoded UTF-8
  std::vector<Json> items;                            // array
  std::vector<std::pair<std::string, Json>> members;  // object, in file order
  int64_t line = 1;                                   // where the value starts (from 1)

  Json();                                        // out of line: clang needs Json complete for the vector of pairs
  double number() const;                         // throws unless a number
  const Json* find(std::string_view key) const;  // object member or nullptr
  const char* kind_name() const;                 // "null", "boolean", ..., "object"
  std::string display() const;                   // number/string text, true/false/null, or compact JSON
};

// A syntax error: `problem` (e.g. "expected '}', found 'x'", or "... but the file ends": the texts
// parsed here are files) at a 1-based line and column and a 0-based byte offset; what() is
// "<problem> at line L, column C".
class JsonError : public std::runtime_error {
 public:
  JsonError(std::string problem, int64_t line, int64_t column, size_t byte);
  std::string problem;
  int64_t line, column;
  size_t byte;
};

struct JsonOptions {
  int max_depth = 64;  // arrays/objects nested deeper than this are an error
};
Json parse_json(std::string_view text, const JsonOptions& options = {});

// `s` as a JSON string literal, quotes included (", \ and control characters escaped).
std::string json_quote(std::string_view s);

}  // namespace seqgrad::nn
