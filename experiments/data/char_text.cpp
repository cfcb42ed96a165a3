// Character-level language-model data: any UTF-8 text decoded straight to ids (no string per
// character), Moby Dick with its documented counts, and the summary that says what was understood.
#include <cmath>
#include <set>
#include <unordered_map>

#include "experiments/data/text.h"

namespace seqgrad::experiments::data {

using namespace detail;

namespace {

constexpr int64_t kMobyDickCharacters = 1190317;
constexpr int64_t kMobyDickDistinct = 83;

// Code points in valid UTF-8: the bytes that are not continuation bytes.
int64_t count_code_points(std::string_view text) {
  int64_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

// The UTF-8 bytes of one code point.
std::string encode_utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xc0 | (cp >> 6)), s += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += char(0xe0 | (cp >> 12)), s += char(0x80 | ((cp >> 6) & 0x3f)), s += char(0x80 | (cp & 0x3f));
  } else {
    s += char(0xf0 | (cp >> 18)), s += char(0x80 | ((cp >> 12) & 0x3f));
    s += char(0x80 | ((cp >> 6) & 0x3f)), s += char(0x80 | (cp & 0x3f));
  }
  return s;
}

// Calls f(index, code point) for each code point of valid UTF-8, in order.
template <class F>
void for_each_code_point(std::string_view text, F&& f) {
  int64_t index = 0;
  for (size_t i = 0; i < text.size();) {
    const CodePoint cp = decode_utf8(text, i);
    f(index++, cp.value);
    i += cp.length;
  }
}

// Two passes over the text, so memory is the text plus the id vectors: (1) which code points the
// training part and the whole text hold; (2) the ids. The vocabulary is <pad>, <unk>, then the
// training code points in code-point order (which is also UTF-8 byte order).
CharCorpus make_char_corpus(std::string_view text, const fs::path& file, double train_fraction) {
  if (!(train_fraction > 0 && train_fraction < 1))
    fail(file, "train fraction " + std::to_string(train_fraction) + " must be in (0, 1)");
  const int64_t n = count_code_points(text);
  const auto n_train = static_cast<int64_t>(std::floor(static_cast<double>(n) * train_fraction));
  if (n_train < 2 || n - n_train < 2)
    fail(file, "too short for a language model (" + std::to_string(n) + " characters)");
  std::set<char32_t> in_train, in_val;  // a text has few distinct code points: sets, not a 0x110000 table
  for_each_code_point(text, [&](int64_t i, char32_t cp) { (i < n_train ? in_train : in_val).insert(cp); });
  CharCorpus c;
  c.characters = n;
  c.source = file.string();
  std::unordered_map<char32_t, int64_t> ids;
  for (char32_t cp : in_train) ids[cp] = c.vocab.add(encode_utf8(cp));  // code-point order
  in_val.insert(in_train.begin(), in_train.end());
  c.distinct = static_cast<int64_t>(in_val.size());
  c.train.reserve(static_cast<size_t>(n_train));
  c.val.reserve(static_cast<size_t>(n - n_train));
  for_each_code_point(text, [&](int64_t i, char32_t cp) {
    const auto it = ids.find(cp);
    (i < n_train ? c.train : c.val).push_back(it == ids.end() ? Vocabulary::kUnk : it->second);
  });
  return c;
}

}  // namespace

std::string CharCorpus::summary() const {
  int64_t unseen = 0;
  for (int64_t id : val) unseen += id == Vocabulary::kUnk;
  return printable(source) + ": " + with_commas(characters) + " characters (train " +
         with_commas(int64_t(train.size())) + ", validation " + with_commas(int64_t(val.size())) + "), " +
         with_commas(distinct) + " distinct\n  vocabulary " + with_commas(vocab.size()) +
         " (<pad>, <unk> and the training part's characters); " + with_commas(unseen) +
         " validation characters unseen in training (<unk>)\n";
}

CharCorpus load_text(const fs::path& file, double train_fraction, const LoadOptions& options) {
  return make_char_corpus(read_text(file, options), file, train_fraction);
}

CharCorpus load_moby_dick(const fs::path& data_dir, const LoadOptions& options) {
  const fs::path file = data_dir / "moby_dick" / "moby_dick.txt";
  CharCorpus c = make_char_corpus(read_standard(file, options), file, 0.9);
  if (options.check_counts) {
    require_count(file, c.characters, kMobyDickCharacters, "characters");
    require_count(file, c.distinct, kMobyDickDistinct, "distinct characters");
  }
  return c;
}

}  // namespace seqgrad::experiments::data
