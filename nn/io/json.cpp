// The JSON reader (see json.h): a recursive-descent parser over a string_view, depth-limited, that
// keeps number literals as text and records each value's line.
#include "nn/io/json.h"

#include <charconv>
#include <cstdio>
#include <cstring>

namespace seqgrad::nn {

namespace {

// A piece of input for an error message: at most 10 bytes, control characters escaped.
std::string excerpt(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 10; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(c));
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "'";
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view s, const JsonOptions& o) : s_(s), max_depth_(o.max_depth) {}

  Json document() {
    skip_space();
    if (at_end()) error("expected a value but the file ends");
    Json v = value(0);
    skip_space();
    if (!at_end()) error("unexpected " + excerpt(s_.substr(pos_)) + " after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& problem) const {
    int64_t line = 1, column = 1;
    for (size_t k = 0; k < pos_ && k < s_.size(); ++k) {
      if (s_[k] == '\n') ++line, column = 1;
      else ++column;
    }
    throw JsonError(problem, line, column, pos_);
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  void skip_space() {
    for (; !at_end(); ++pos_) {
      const char c = s_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      if (c == '\n') ++line_;
    }
  }
  void expect(char c) {
    if (at_end()) error(std::string("expected '") + c + "' but the file ends");
    if (s_[pos_] != c) error(std::string("expected '") + c + "', found " + excerpt(s_.substr(pos_)));
    ++pos_;
  }
  // After an element of a list closed by `close`: true when another element follows.
  bool more(char close) {
    skip_space();
    if (peek() == ',' && !at_end()) return ++pos_, true;
    expect(close);
    return false;
  }

  Json value(int depth) {
    if (depth > max_depth_) error("nesting too deep: nested more than " + std::to_string(max_depth_) + " levels");
    skip_space();
    if (at_end()) error("expected a value but the file ends");
    Json v;
    v.line = line_;
    const char c = s_[pos_];
    if (c == '[') {
      v.kind = Json::Kind::array;
      ++pos_;
      skip_space();
      if (peek() == ']') return ++pos_, v;
      do v.items.push_back(value(depth + 1));
      while (more(']'));
    } else if (c == '{') {
      v.kind = Json::Kind::object;
      ++pos_;
      skip_space();
      if (peek() == '}') return ++pos_, v;
      do {
        skip_space();
        if (peek() != '"' || at_end()) error("expected a string key, found " + excerpt(s_.substr(pos_)));
        std::string key = string();
        if (v.find(key)) error("duplicate key \"" + key + "\"");
        skip_space();
        expect(':');
        Json member = value(depth + 1);
        v.members.emplace_back(std::move(key), std::move(member));
      } while (more('}'));
    } else if (c == '"') {
      v.kind = Json::Kind::string;
      v.text = string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = Json::Kind::number;
      v.text = number();
    } else {
      literal(v);
    }
    return v;
  }

  void literal(Json& v) {
    for (const char* word : {"null", "true", "false"})
      if (s_.substr(pos_, std::strlen(word)) == word) {
        pos_ += std::strlen(word);
        v.kind = word[0] == 'n' ? Json::Kind::null : Json::Kind::boolean;
        v.boolean = word[0] == 't';
        return;
      }
    error("unexpected " + excerpt(s_.substr(pos_)) + " (not a value or literal)");
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, and finite as a double.
  std::string number() {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t d = pos_;
      while (!at_end() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      if (pos_ == d) error("malformed number " + excerpt(s_.substr(start, pos_ + 1 - start)));
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0') ++pos_;
    else digits();
    if (peek() == '.') ++pos_, digits();
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      digits();
    }
    const std::string_view text = s_.substr(start, pos_ - start);
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) error("number out of range " + excerpt(text));
    return std::string(text);
  }

  uint32_t hex4() {
    if (pos_ + 4 > s_.size()) error("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= uint32_t(h - '0');
      else if (h >= 'a' && h <= 'f') v |= uint32_t(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= uint32_t(h - 'A' + 10);
      else error("bad \\u escape");
    }
    return v;
  }

  // At the opening quote; returns the decoded string.
  std::string string() {
    ++pos_;
    std::string out;
    while (true) {
      if (at_end()) error("unterminated string");
      const char c = s_[pos_];
      if (static_cast<unsigned char>(c) < 0x20)  // reported at the character, before counting it
        error(c == '\n' ? "unterminated string (newline inside)" : "control character inside a string");
      ++pos_;
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) error("unterminated string");
      switch (const char e = s_[pos_++]) {
        case '"':
        case '\\':
        case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, code_point()); break;
        default: error("bad escape " + excerpt(std::string("\\") + e));
      }
    }
  }

  // After "\u": one code point, a surrogate pair taking two escapes.
  uint32_t code_point() {
    const uint32_t cp = hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) error("unpaired surrogate in \\u escape");
    if (cp < 0xD800 || cp > 0xDBFF) return cp;
    if (s_.substr(pos_, 2) != "\\u") error("unpaired surrogate in \\u escape");
    pos_ += 2;
    const uint32_t low = hex4();
    if (low < 0xDC00 || low > 0xDFFF) error("unpaired surrogate in \\u escape");
    return 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }

  std::string_view s_;
  int max_depth_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

}  // namespace

Json::Json() = default;

double Json::number() const {
  if (kind != Kind::number) throw std::invalid_argument(std::string("json: expected a number, got ") + kind_name());
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);  // validated by the parser
  return v;
}

const Json* Json::find(std::string_view key) const {
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

const char* Json::kind_name() const {
  static const char* names[] = {"null", "boolean", "number", "string", "array", "object"};
  return names[int(kind)];
}

std::string Json::display() const {
  switch (kind) {
    case Kind::null: return "null";
    case Kind::boolean: return boolean ? "true" : "false";
    case Kind::number:
    case Kind::string: return text;
    case Kind::array: {
      std::string out = "[";
      for (size_t k = 0; k < items.size(); ++k)
        out += (k ? ", " : "") + (items[k].kind == Kind::string ? json_quote(items[k].text) : items[k].display());
      return out + "]";
    }
    case Kind::object: {
      std::string out = "{";
      for (size_t k = 0; k < members.size(); ++k) {
        const Json& v = members[k].second;
        out += (k ? ", " : "") + json_quote(members[k].first) + ": " +
               (v.kind == Kind::string ? json_quote(v.text) : v.display());
      }
      return out + "}";
    }
  }
  return "";
}

JsonError::JsonError(std::string p, int64_t l, int64_t c, size_t b)
    : std::runtime_error(p + " at line " + std::to_string(l) + ", column " + std::to_string(c)),
      problem(std::move(p)),
      line(l),
      column(c),
      byte(b) {}

Json parse_json(std::string_view text, const JsonOptions& options) { return Parser(text, options).document(); }

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace seqgrad::nn
