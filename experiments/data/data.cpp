// Dataset loaders, vocabulary, tokenizer and batching helpers (see data.h and experiments/data/README.md).
#include "experiments/data/data.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <utility>

#include "nn/json.h"

namespace seqgrad::experiments::data {

namespace {

constexpr const char* kFetchHint = "run scripts/fetch_data.sh";

// SHA-256 digests recorded by scripts/fetch_data.sh (scripts/data.sha256). The Brown corpus is
// checked as one digest over its 500 files concatenated in name order.
constexpr const char* kShaAmazon = "bc5eb0cac49fc45987301f1dc2d02cf5ca356ba6c882be179dce77d74e666ed9";
constexpr const char* kShaImdb = "44a7b9082ed732ee2de3c858ea5ee2e99aca34f239a1c4359d3a300bf099bdb5";
constexpr const char* kShaYelp = "9f3f47983f21eeb819380767b74bfa648eca208f156241111454b3e122773ff7";
constexpr const char* kShaMobyDick = "fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240";
constexpr const char* kShaSunspots = "f95856aed215dca1673e5376ec668d7e0b5a28c2ffbe5281078e30e49d423099";
constexpr const char* kShaBrownAll = "cbc711696316d4aa801b51d6a062c4bc5a2c5f85abdf4ca5a51f6e11a50c1bc8";
constexpr int64_t kBrownFiles = 500;

[[noreturn]] void fail(const fs::path& file, const std::string& problem) {
  throw std::runtime_error(file.string() + ": " + problem);
}
[[noreturn]] void fail(const fs::path& file, int64_t line, const std::string& problem) {
  throw std::runtime_error(file.string() + ":" + std::to_string(line) + ": " + problem);
}

// Shows a piece of input in an error message: at most 40 bytes, control characters escaped.
std::string quote(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 40; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 40) out += "...";
  return out + "'";
}

// ---- SHA-256 (FIPS 180-4) -------------------------------------------------------------------------

class Sha256 {
 public:
  void update(std::string_view bytes) {
    for (char ch : bytes) {
      block_[fill_++] = static_cast<uint8_t>(ch);
      if (fill_ == 64) {
        compress();
        fill_ = 0;
      }
    }
    length_ += bytes.size();
  }
  std::string hex() {
    uint64_t bits = length_ * 8;
    block_[fill_++] = 0x80;
    if (fill_ > 56) {
      while (fill_ < 64) block_[fill_++] = 0;
      compress();
      fill_ = 0;
    }
    while (fill_ < 56) block_[fill_++] = 0;
    for (int i = 7; i >= 0; --i) block_[fill_++] = static_cast<uint8_t>(bits >> (8 * i));
    compress();
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (uint32_t word : h_)
      for (int i = 28; i >= 0; i -= 4) out += digits[(word >> i) & 15];
    return out;
  }

 private:
  static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
  void compress() {
    static constexpr std::array<uint32_t, 64> k = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    std::array<uint32_t, 64> w{};
    for (int i = 0; i < 16; ++i)
      w[i] = (uint32_t(block_[4 * i]) << 24) | (uint32_t(block_[4 * i + 1]) << 16) |
             (uint32_t(block_[4 * i + 2]) << 8) | uint32_t(block_[4 * i + 3]);
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }

  std::array<uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<uint8_t, 64> block_{};
  size_t fill_ = 0;
  uint64_t length_ = 0;
};

// ---- files and lines ------------------------------------------------------------------------------

// Whole file as bytes. A standard dataset file that is missing says how to fetch it.
std::string read_bytes(const fs::path& file, bool standard) {
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (standard) fail(file, std::string("file not found; ") + kFetchHint);
    fail(file, "file not found");
  }
  if (fs::is_directory(file, ec)) fail(file, "is a folder, expected a file");
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file, "cannot open file for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail(file, "read error");
  return std::move(buffer).str();
}

void verify_digest(const fs::path& file, const std::string& actual, const char* expected) {
  if (actual != expected)
    fail(file, "SHA-256 " + actual.substr(0, 12) + "... differs from the recorded " +
                   std::string(expected).substr(0, 12) + "... (corrupt, truncated or a different version); " +
                   kFetchHint + " to fetch it again");
}

// Reads a standard dataset file, checking its digest when asked.
std::string read_standard(const fs::path& file, const char* sha, const LoadOptions& options) {
  std::string bytes = read_bytes(file, true);
  if (options.verify_checksums) verify_digest(file, sha256_hex(bytes), sha);
  return bytes;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid (overlong forms,
// surrogates and code points above U+10FFFF are invalid).
size_t utf8_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

// Throws "<file>:<line>: invalid UTF-8 ..." at the first invalid sequence.
void check_utf8(std::string_view s, const std::string& file) {
  int64_t line = 1;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '\n') ++line;
    size_t n = utf8_length(s, i);
    if (n == 0)
      fail(file, line,
           "invalid UTF-8 (byte " + quote(s.substr(i, 1)) + " at byte offset " + std::to_string(i) +
               "); save the file as UTF-8");
    i += n;
  }
}

// Splits into lines numbered from 1; drops one trailing '\r' per line and a leading UTF-8 BOM.
// A final '\n' does not start an extra (empty) line.
std::vector<std::pair<int64_t, std::string_view>> split_lines(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  std::vector<std::pair<int64_t, std::string_view>> lines;
  int64_t number = 1;
  while (!s.empty()) {
    size_t end = s.find('\n');
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

// A whole field written as a number (surrounding spaces and a leading '+' allowed); nullopt when it
// is not one. Its value may be NaN or infinite ("nan", "inf"); out of double's range ("1e999") reads
// as NaN.
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

// A whole field as a finite double.
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

// The split rule for record n (from 1): 0 train, 1 val (n % 10 == 9), 2 test (n % 10 == 0).
int split_of(int64_t n) { return n % 10 == 9 ? 1 : (n % 10 == 0 ? 2 : 0); }

// A user's file split by the rule above needs >= 10 records, or the test split would be empty.
void require_splittable(const fs::path& file, size_t records, const std::string& what) {
  if (records < 10)
    fail(file, "too few " + what + " (" + std::to_string(records) +
                   ") to split into train / validation / test (the split rule needs at least 10)");
}

template <class T>
void distribute(std::vector<T>&& items, std::vector<T>& train, std::vector<T>& val, std::vector<T>& test) {
  for (size_t i = 0; i < items.size(); ++i) {
    int s = split_of(static_cast<int64_t>(i) + 1);
    (s == 0 ? train : s == 1 ? val : test).push_back(std::move(items[i]));
  }
}

// ---- universal tags -------------------------------------------------------------------------------

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

// ---- public: paths, text, digests -----------------------------------------------------------------

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
    size_t b = current.find_first_not_of('\'');
    if (b != std::string::npos) {
      size_t e = current.find_last_not_of('\'');
      tokens.push_back(current.substr(b, e - b + 1));
    }
    current.clear();
  };
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool word = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'';
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
  check_utf8(text, std::string(what));
  std::vector<std::string> chars;
  chars.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_length(text, i);
    chars.emplace_back(text.substr(i, n));
    i += n;
  }
  return chars;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex();
}

std::string sha256_file(const fs::path& file) { return sha256_hex(read_bytes(file, false)); }

// ---- Vocabulary -----------------------------------------------------------------------------------

Vocabulary::Vocabulary(bool specials) : specials_(specials) {
  if (specials) {
    add("<pad>");
    add("<unk>");
  }
}

int64_t Vocabulary::add(const std::string& token) {
  auto [it, inserted] = ids_.emplace(token, size());
  if (inserted) tokens_.push_back(token);
  return it->second;
}

int64_t Vocabulary::id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  if (it != ids_.end()) return it->second;
  if (specials_) return kUnk;
  throw std::runtime_error("Vocabulary: unknown token " + quote(token) + " (a vocabulary without <unk>)");
}

const std::string& Vocabulary::token(int64_t id) const {
  if (id < 0 || id >= size())
    throw std::runtime_error("Vocabulary: id " + std::to_string(id) + " out of range [0, " + std::to_string(size()) +
                             ")");
  return tokens_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocabulary::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) ids.push_back(id(t));
  return ids;
}

Vocabulary Vocabulary::build(const std::vector<std::vector<std::string>>& sequences, const BuildOptions& options) {
  std::map<std::string, int64_t> counts;  // ordered: ties and Order::sorted need no extra sort key
  for (const auto& seq : sequences)
    for (const auto& t : seq) ++counts[t];
  std::vector<std::pair<std::string, int64_t>> entries;
  for (auto& [token, count] : counts)
    if (count >= options.min_count) entries.emplace_back(token, count);
  if (options.order == Order::frequency)
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  Vocabulary v(options.specials);
  for (const auto& [token, count] : entries) {
    if (options.max_size > 0 && v.size() >= options.max_size) break;
    if (options.specials && (token == "<pad>" || token == "<unk>")) continue;
    v.add(token);
  }
  return v;
}

Vocabulary Vocabulary::from_tokens(const std::vector<std::string>& tokens, bool specials) {
  Vocabulary v(specials);
  for (const auto& t : tokens) {
    if (v.contains(t)) throw std::runtime_error("Vocabulary: duplicate token " + quote(t));
    v.add(t);
  }
  return v;
}

// ---- sentiment ------------------------------------------------------------------------------------

namespace {

std::vector<TextExample> parse_sentiment(std::string_view bytes, const fs::path& file) {
  const std::string name = file.string();
  check_utf8(bytes, name);
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  nn::Json doc;
  try {
    doc = nn::parse_json(bytes);
  } catch (const nn::JsonError& e) {
    fail(file, e.line, "bad JSON: " + e.problem);
  }
  if (doc.kind != nn::Json::Kind::array) fail(file, doc.line, "expected a JSON array of {\"text\", \"class\"} records");
  std::vector<TextExample> out;
  for (size_t i = 0; i < doc.items.size(); ++i) {
    const nn::Json& r = doc.items[i];
    std::string where = "record " + std::to_string(i + 1) + ": ";
    if (r.kind != nn::Json::Kind::object) fail(file, r.line, where + "expected an object {\"text\", \"class\"}");
    const nn::Json* text = r.find("text");
    const nn::Json* cls = r.find("class");
    if (!text || text->kind != nn::Json::Kind::string) fail(file, r.line, where + "missing string field \"text\"");
    if (!cls) fail(file, r.line, where + "missing field \"class\" (the label)");
    if (cls->kind == nn::Json::Kind::null) {
      if (i + 1 == doc.items.size()) break;  // the fixtures' terminator record
      fail(file, cls->line, where + "\"class\" is null (only the final record may be)");
    }
    if (cls->kind != nn::Json::Kind::number || (cls->number() != 0 && cls->number() != 1))
      fail(file, cls->line, where + "\"class\" must be 0 or 1");
    if (trim(text->text).empty()) fail(file, text->line, where + "empty \"text\"");
    out.push_back({text->text, static_cast<int64_t>(cls->number()), name, r.line});
  }
  if (out.empty()) fail(file, "no records");
  return out;
}

}  // namespace

std::vector<TextExample> read_sentiment_json(const fs::path& file) {
  return parse_sentiment(read_bytes(file, false), file);
}

ClassificationData load_sentiment(const fs::path& data_dir, const LoadOptions& options) {
  ClassificationData d;
  d.classes = {"negative", "positive"};
  const std::pair<const char*, const char*> files[] = {
      {"amazon.json", kShaAmazon}, {"imdb.json", kShaImdb}, {"yelp.json", kShaYelp}};
  for (const auto& [name, sha] : files) {
    fs::path file = data_dir / "sentiment" / name;
    distribute(parse_sentiment(read_standard(file, sha, options), file), d.train, d.val, d.test);
  }
  return d;
}

ClassificationData load_classification_tsv(const fs::path& file) {
  const std::string name = file.string();
  std::string bytes = read_bytes(file, false);
  check_utf8(bytes, name);
  std::vector<TextExample> examples;
  std::vector<std::string> labels;
  for (auto [line, text] : split_lines(bytes)) {
    if (is_blank(text)) fail(file, line, "empty line (expected label<TAB>text)");
    size_t tab = text.find('\t');
    if (tab == std::string_view::npos) fail(file, line, "missing tab (expected label<TAB>text): " + quote(text));
    std::string_view label = trim(text.substr(0, tab));
    std::string_view sentence = trim(text.substr(tab + 1));
    if (label.empty()) fail(file, line, "missing label (expected label<TAB>text)");
    if (sentence.empty()) fail(file, line, "empty text after the label");
    examples.push_back({std::string(sentence), 0, name, line});
    labels.emplace_back(label);
  }
  if (examples.empty()) fail(file, "no records (expected label<TAB>text lines)");
  require_splittable(file, examples.size(), "records");

  std::vector<std::string> classes(labels.begin(), labels.end());
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  if (classes.size() < 2) fail(file, "every record has the label " + quote(classes[0]) + " (a classifier needs two or more)");
  bool numeric = std::all_of(classes.begin(), classes.end(), [](const std::string& c) {
    return c.size() <= 18 && std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  });
  if (numeric)
    std::sort(classes.begin(), classes.end(),
              [](const std::string& a, const std::string& b) { return std::stoll(a) < std::stoll(b); });
  for (size_t i = 0; i < examples.size(); ++i)
    examples[i].label = std::find(classes.begin(), classes.end(), labels[i]) - classes.begin();

  ClassificationData d;
  d.classes = std::move(classes);
  distribute(std::move(examples), d.train, d.val, d.test);
  return d;
}

// ---- tagging --------------------------------------------------------------------------------------

const std::vector<std::string>& universal_tags() {
  static const std::vector<std::string> tags = {"NOUN", "VERB", "ADJ", "ADV", "PRON", "DET",
                                                "ADP",  "CONJ", "PRT", "NUM", ".",    "X"};
  return tags;
}

std::string_view universal_tag(std::string_view raw_tag) {
  std::string tag;
  for (char c : raw_tag) tag += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  if (tag.empty()) return "";
  if (starts_with(tag, "fw-")) return "X";
  // Strip title/headline/citation markers (possibly stacked: "nn-tl-hl").
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (std::string_view suffix : {"-tl", "-hl", "-nc"}) {
      if (tag.size() > suffix.size() && tag.ends_with(suffix)) {
        tag.resize(tag.size() - suffix.size());
        stripped = true;
      }
    }
  }
  if (tag == "*") return "ADV";  // "not", "n't"
  if (size_t plus = tag.find('+'); plus != std::string::npos && plus > 0) tag.resize(plus);
  std::erase_if(tag, [](char c) { return c == '*' || c == '$'; });
  if (tag.empty()) return "";
  if (std::all_of(tag.begin(), tag.end(),
                  [](char c) { return std::strchr(".,:;()'`-!?\"[]", c) != nullptr; }))
    return ".";
  struct Rule {
    std::string_view prefix;
    bool exact;
    std::string_view universal;
  };
  static constexpr Rule rules[] = {
      {"nn", false, "NOUN"}, {"np", false, "NOUN"}, {"nr", false, "NOUN"},   {"vb", false, "VERB"},
      {"be", false, "VERB"}, {"do", false, "VERB"}, {"hv", false, "VERB"},   {"md", true, "VERB"},
      {"jj", false, "ADJ"},  {"rb", false, "ADV"},  {"ql", false, "ADV"},    {"wql", true, "ADV"},
      {"wrb", true, "ADV"},  {"rn", true, "ADV"},   {"pp", false, "PRON"},   {"wp", false, "PRON"},
      {"pn", false, "PRON"}, {"at", true, "DET"},   {"ap", true, "DET"},     {"abn", true, "DET"},
      {"abx", true, "DET"},  {"abl", true, "DET"},  {"dt", false, "DET"},    {"wdt", true, "DET"},
      {"ex", true, "DET"},   {"in", true, "ADP"},   {"cc", true, "CONJ"},    {"cs", true, "CONJ"},
      {"to", true, "PRT"},   {"rp", true, "PRT"},   {"cd", true, "NUM"},     {"od", true, "NUM"},
      {"uh", true, "X"},     {"nil", true, "X"}};
  for (const Rule& r : rules)
    if (r.exact ? tag == r.prefix : starts_with(tag, r.prefix)) return r.universal;
  return "";
}

namespace {

std::vector<TaggedSentence> parse_tagged(std::string_view bytes, const fs::path& file, bool universal) {
  const std::string name = file.string();
  check_utf8(bytes, name);
  std::vector<TaggedSentence> sentences;
  for (auto [line, text] : split_lines(bytes)) {
    TaggedSentence s;
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      size_t start = i;
      while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
      std::string_view token = text.substr(start, i - start);
      if (token.empty()) continue;
      size_t slash = token.rfind('/');
      if (slash == std::string_view::npos || slash == 0 || slash + 1 == token.size())
        fail(file, line, "token " + quote(token) + " is not word/tag");
      std::string_view tag = token.substr(slash + 1);
      if (universal) {
        std::string_view u = universal_tag(tag);
        if (u.empty()) fail(file, line, "raw tag " + quote(tag) + " has no universal tag");
        tag = u;
      }
      s.words.emplace_back(token.substr(0, slash));
      s.tags.emplace_back(tag);
    }
    if (!s.words.empty()) sentences.push_back(std::move(s));
  }
  if (sentences.empty()) fail(file, "no sentences (expected lines of word/tag tokens)");
  return sentences;
}

}  // namespace

std::vector<TaggedSentence> read_tagged_file(const fs::path& file, bool universal) {
  return parse_tagged(read_bytes(file, false), file, universal);
}

namespace {

bool is_brown_name(std::string_view n) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return n.size() == 4 && n[0] == 'c' && n[1] >= 'a' && n[1] <= 'r' && digit(n[2]) && digit(n[3]);
}

}  // namespace

int brown_split(std::string_view name) {
  if (!is_brown_name(name))
    throw std::runtime_error("brown_split: " + quote(name) + " is not a Brown file name c[a-r][0-9][0-9]");
  return split_of((name[2] - '0') * 10 + (name[3] - '0'));
}

TaggingData load_brown(const fs::path& data_dir, const LoadOptions& options) {
  fs::path dir = data_dir / "brown";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(dir, std::string("folder not found; ") + kFetchHint);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string n = entry.path().filename().string();
    if (is_brown_name(n)) names.push_back(n);
  }
  if (ec) fail(dir, "cannot list folder: " + ec.message());
  std::sort(names.begin(), names.end());
  if (names.empty()) fail(dir, std::string("no Brown files c[a-r][0-9][0-9]; ") + kFetchHint);
  if (options.verify_checksums && static_cast<int64_t>(names.size()) != kBrownFiles)
    fail(dir, "expected " + std::to_string(kBrownFiles) + " Brown files, found " + std::to_string(names.size()) + "; " +
                  kFetchHint);

  // Read and check everything before parsing, so a corrupt file reports the checksum and the fix.
  std::vector<std::string> contents;
  Sha256 all;
  for (const auto& n : names) {
    contents.push_back(read_bytes(dir / n, true));
    if (options.verify_checksums) all.update(contents.back());
  }
  if (options.verify_checksums) {
    std::string digest = all.hex();
    if (digest != kShaBrownAll)
      fail(dir, "SHA-256 of the 500 files " + digest.substr(0, 12) + "... differs from the recorded " +
                    std::string(kShaBrownAll).substr(0, 12) + "... (corrupt or a different version); " + kFetchHint +
                    " to fetch it again");
  }
  TaggingData d;
  d.tagset = universal_tags();
  for (size_t i = 0; i < names.size(); ++i) {
    auto sentences = parse_tagged(contents[i], dir / names[i], true);
    int split = brown_split(names[i]);
    auto& target = split == 0 ? d.train : split == 1 ? d.val : d.test;
    for (auto& s : sentences) target.push_back(std::move(s));
    std::string().swap(contents[i]);
  }
  return d;
}

TaggingData load_tagging_file(const fs::path& file) {
  auto sentences = read_tagged_file(file, false);
  require_splittable(file, sentences.size(), "sentences");
  std::set<std::string> tags;
  for (const auto& s : sentences) tags.insert(s.tags.begin(), s.tags.end());
  TaggingData d;
  d.tagset.assign(tags.begin(), tags.end());
  distribute(std::move(sentences), d.train, d.val, d.test);
  return d;
}

// ---- character LM ---------------------------------------------------------------------------------

namespace {

CharCorpus make_char_corpus(std::string_view bytes, const fs::path& file, double train_fraction) {
  if (!(train_fraction > 0 && train_fraction < 1))
    fail(file, "train fraction " + std::to_string(train_fraction) + " must be in (0, 1)");
  std::vector<std::string> chars = utf8_chars(bytes, file.string());
  int64_t n = static_cast<int64_t>(chars.size());
  int64_t n_train = static_cast<int64_t>(std::floor(static_cast<double>(n) * train_fraction));
  if (n_train < 2 || n - n_train < 2)
    fail(file, "too short for a language model (" + std::to_string(n) + " characters)");
  CharCorpus c;
  c.characters = n;
  {
    std::vector<std::vector<std::string>> train_chars(1);
    train_chars[0].assign(chars.begin(), chars.begin() + n_train);
    c.vocab = Vocabulary::build(train_chars, {.order = Vocabulary::Order::sorted});
  }
  c.train.reserve(static_cast<size_t>(n_train));
  c.val.reserve(static_cast<size_t>(n - n_train));
  for (int64_t i = 0; i < n; ++i) (i < n_train ? c.train : c.val).push_back(c.vocab.id(chars[static_cast<size_t>(i)]));
  return c;
}

}  // namespace

CharCorpus load_text(const fs::path& file, double train_fraction) {
  return make_char_corpus(read_bytes(file, false), file, train_fraction);
}

CharCorpus load_moby_dick(const fs::path& data_dir, const LoadOptions& options) {
  fs::path file = data_dir / "moby_dick" / "moby_dick.txt";
  return make_char_corpus(read_standard(file, kShaMobyDick, options), file, 0.9);
}

// ---- forecasting ----------------------------------------------------------------------------------

namespace {

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  while (true) {
    size_t comma = line.find(',');
    fields.push_back(line.substr(0, comma));
    if (comma == std::string_view::npos) return fields;
    line.remove_prefix(comma + 1);
  }
}

}  // namespace

ForecastData load_sunspots(const fs::path& data_dir, const LoadOptions& options) {
  fs::path file = data_dir / "sunspots" / "sunspot_month.csv";
  std::string bytes = read_standard(file, kShaSunspots, options);
  check_utf8(bytes, file.string());
  auto lines = split_lines(bytes);
  if (lines.empty() || trim(lines[0].second) != "year,month,value")
    fail(file, 1, "expected the header year,month,value");
  ForecastData d;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto [line, text] = lines[i];
    auto f = split_fields(text);
    if (f.size() != 3) fail(file, line, "expected year,month,value, found " + quote(text));
    auto year = parse_int(f[0]);
    auto month = parse_int(f[1]);
    auto value = parse_number(f[2]);
    if (!year) fail(file, line, "year " + quote(f[0]) + " is not an integer");
    if (!month || *month < 1 || *month > 12) fail(file, line, "month " + quote(f[1]) + " is not in 1..12");
    if (!value) fail(file, line, "value " + quote(f[2]) + " is not a number");
    Series& s = *year <= 1950 ? d.train : (*year <= 1980 ? d.val : d.test);
    s.values.push_back(*value);
    s.year.push_back(*year);
    s.month.push_back(*month);
  }
  if (d.train.values.empty() || d.val.values.empty() || d.test.values.empty())
    fail(file, "needs values up to 1950, in 1951-1980 and after 1980");
  return d;
}

ForecastData load_series_csv(const fs::path& file, int column, double train_fraction, double val_fraction) {
  if (!(train_fraction > 0 && val_fraction >= 0 && train_fraction + val_fraction < 1))
    fail(file, "split fractions train " + std::to_string(train_fraction) + ", val " + std::to_string(val_fraction) +
                   " must be positive and sum below 1");
  std::string bytes = read_bytes(file, false);
  check_utf8(bytes, file.string());
  std::vector<double> values;
  for (auto [line, text] : split_lines(bytes)) {
    if (is_blank(text)) fail(file, line, "empty line (expected a number)");
    auto fields = split_fields(text);
    int64_t col = column < 0 ? static_cast<int64_t>(fields.size()) + column : column;
    if (col < 0 || col >= static_cast<int64_t>(fields.size()))
      fail(file, line, "has " + std::to_string(fields.size()) + " column(s), no column " + std::to_string(column));
    std::string_view field = fields[static_cast<size_t>(col)];
    const std::optional<double> value = read_number(field);
    if (!value && line == 1) continue;  // header; a field written as a number ("nan") never is one
    if (!value || !std::isfinite(*value))
      fail(file, line, "value " + quote(field) + " is not a number" + (value ? " (must be finite)" : ""));
    values.push_back(*value);
  }
  int64_t n = static_cast<int64_t>(values.size());
  int64_t n_train = static_cast<int64_t>(std::floor(static_cast<double>(n) * train_fraction));
  int64_t n_val = static_cast<int64_t>(std::floor(static_cast<double>(n) * val_fraction));
  if (n_train < 1 || (val_fraction > 0 && n_val < 1) || n - n_train - n_val < 1)
    fail(file, "too few values (" + std::to_string(n) + ") to split into train / validation / test");
  ForecastData d;
  d.train.values.assign(values.begin(), values.begin() + n_train);
  d.val.values.assign(values.begin() + n_train, values.begin() + n_train + n_val);
  d.test.values.assign(values.begin() + n_train + n_val, values.end());
  return d;
}

// ---- batching -------------------------------------------------------------------------------------

std::vector<int64_t> shuffled_indices(int64_t n, Rng& rng) {
  if (n < 0) throw std::runtime_error("shuffled_indices: n = " + std::to_string(n) + " is negative");
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[static_cast<size_t>(i)] = i;
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(rng.below(static_cast<uint64_t>(i) + 1))]);
  return idx;
}

std::vector<std::vector<int64_t>> make_batches(int64_t n, int64_t batch_size, Rng* rng) {
  if (batch_size < 1) throw std::runtime_error("make_batches: batch size " + std::to_string(batch_size) + " < 1");
  std::vector<int64_t> order;
  if (rng) {
    order = shuffled_indices(n, *rng);
  } else {
    if (n < 0) throw std::runtime_error("make_batches: n = " + std::to_string(n) + " is negative");
    for (int64_t i = 0; i < n; ++i) order.push_back(i);
  }
  std::vector<std::vector<int64_t>> batches;
  for (int64_t i = 0; i < n; i += batch_size)
    batches.emplace_back(order.begin() + i, order.begin() + std::min(n, i + batch_size));
  return batches;
}

PaddedBatch pad_batch(const std::vector<std::vector<int64_t>>& sequences, std::span<const int64_t> indices,
                      int64_t pad_value, int64_t max_steps) {
  std::vector<int64_t> all;
  if (indices.empty()) {
    for (size_t i = 0; i < sequences.size(); ++i) all.push_back(static_cast<int64_t>(i));
    indices = all;
  }
  if (indices.empty()) throw std::runtime_error("pad_batch: empty batch");
  PaddedBatch b;
  b.batch = static_cast<int64_t>(indices.size());
  for (int64_t i : indices) {
    if (i < 0 || i >= static_cast<int64_t>(sequences.size()))
      throw std::runtime_error("pad_batch: index " + std::to_string(i) + " out of range [0, " +
                               std::to_string(sequences.size()) + ")");
    const auto& s = sequences[static_cast<size_t>(i)];
    if (s.empty())
      throw std::runtime_error("pad_batch: sequence " + std::to_string(i) + " is empty (lengths must be >= 1)");
    int64_t len = static_cast<int64_t>(s.size());
    if (max_steps > 0) len = std::min(len, max_steps);
    b.lengths.push_back(len);
    b.steps = std::max(b.steps, len);
  }
  b.ids.assign(static_cast<size_t>(b.batch * b.steps), pad_value);
  for (int64_t r = 0; r < b.batch; ++r) {
    const auto& s = sequences[static_cast<size_t>(indices[static_cast<size_t>(r)])];
    std::copy_n(s.begin(), b.lengths[static_cast<size_t>(r)], b.ids.begin() + r * b.steps);
  }
  return b;
}

StreamBatches stream_batches(const std::vector<int64_t>& ids, int64_t batch) {
  if (batch < 1) throw std::runtime_error("stream_batches: batch " + std::to_string(batch) + " < 1");
  int64_t row = static_cast<int64_t>(ids.size()) / batch;
  if (row < 2)
    throw std::runtime_error("stream_batches: " + std::to_string(ids.size()) + " ids are too few for " +
                             std::to_string(batch) + " rows of at least 2");
  StreamBatches s;
  s.batch = batch;
  s.row_length = row;
  s.rows.assign(ids.begin(), ids.begin() + batch * row);
  return s;
}

int64_t StreamBatches::windows(int64_t steps) const {
  if (steps < 1) throw std::runtime_error("StreamBatches: steps " + std::to_string(steps) + " < 1");
  return (row_length - 1 + steps - 1) / steps;
}

void StreamBatches::window(int64_t w, int64_t steps, std::vector<int64_t>& x, std::vector<int64_t>& y) const {
  int64_t count = windows(steps);
  if (w < 0 || w >= count)
    throw std::runtime_error("StreamBatches: window " + std::to_string(w) + " out of range [0, " +
                             std::to_string(count) + ")");
  int64_t start = w * steps;
  int64_t t = std::min(steps, row_length - 1 - start);
  x.resize(static_cast<size_t>(batch * t));
  y.resize(static_cast<size_t>(batch * t));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t k = 0; k < t; ++k) {
      x[static_cast<size_t>(b * t + k)] = rows[static_cast<size_t>(b * row_length + start + k)];
      y[static_cast<size_t>(b * t + k)] = rows[static_cast<size_t>(b * row_length + start + k + 1)];
    }
}

}  // namespace seqgrad::experiments::data
