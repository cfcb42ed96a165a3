// Part-of-speech tagging data (many-to-many): word/tag files, the Brown corpus mapped to the 12
// universal tags, a user's tagged file, and the tag counts and summary that say what was understood.
#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>

#include "experiments/data/text.h"

namespace seqgrad::experiments::data {

using namespace detail;

namespace {

constexpr int64_t kBrownFiles = 500;
constexpr int64_t kBrownSentences = 57340;
constexpr size_t kSummaryTags = 20;  // tags listed by summary(); the rest are counted

}  // namespace

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
  if (std::all_of(tag.begin(), tag.end(), [](char c) { return std::strchr(".,:;()'`-!?\"[]", c) != nullptr; }))
    return ".";
  struct Rule {
    std::string_view prefix;
    bool exact;
    std::string_view universal;
  };
  static constexpr Rule rules[] = {
      {"nn", false, "NOUN"}, {"np", false, "NOUN"}, {"nr", false, "NOUN"}, {"vb", false, "VERB"}, {"be", false, "VERB"},
      {"do", false, "VERB"}, {"hv", false, "VERB"}, {"md", true, "VERB"},  {"jj", false, "ADJ"},  {"rb", false, "ADV"},
      {"ql", false, "ADV"},  {"wql", true, "ADV"},  {"wrb", true, "ADV"},  {"rn", true, "ADV"},   {"pp", false, "PRON"},
      {"wp", false, "PRON"}, {"pn", false, "PRON"}, {"at", true, "DET"},   {"ap", true, "DET"},   {"abn", true, "DET"},
      {"abx", true, "DET"},  {"abl", true, "DET"},  {"dt", false, "DET"},  {"wdt", true, "DET"},  {"ex", true, "DET"},
      {"in", true, "ADP"},   {"cc", true, "CONJ"},  {"cs", true, "CONJ"},  {"to", true, "PRT"},   {"rp", true, "PRT"},
      {"cd", true, "NUM"},   {"od", true, "NUM"},   {"uh", true, "X"},     {"nil", true, "X"}};
  for (const Rule& r : rules)
    if (r.exact ? tag == r.prefix : starts_with(tag, r.prefix)) return r.universal;
  return "";
}

namespace {

// The sentences of one word/tag file (already read and checked as UTF-8).
std::vector<TaggedSentence> parse_tagged(std::string_view bytes, const fs::path& file, bool universal) {
  std::vector<TaggedSentence> sentences;
  for (auto [line, text] : split_lines(bytes)) {
    TaggedSentence s;
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      const size_t start = i;
      while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
      const std::string_view token = text.substr(start, i - start);
      if (token.empty()) continue;
      const size_t slash = token.rfind('/');
      if (slash == std::string_view::npos || slash == 0 || slash + 1 == token.size())
        fail(file, line, "token " + quote(token) + " is not word/tag");
      std::string_view tag = token.substr(slash + 1);
      if (universal) {
        const std::string_view u = universal_tag(tag);
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

bool is_brown_name(std::string_view n) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return n.size() == 4 && n[0] == 'c' && n[1] >= 'a' && n[1] <= 'r' && digit(n[2]) && digit(n[3]);
}

// The Brown file names in <dir>, sorted; with check_counts, exactly 500 of them.
std::vector<std::string> brown_files(const fs::path& dir, const LoadOptions& options) {
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
  if (options.check_counts) require_count(dir, int64_t(names.size()), kBrownFiles, "Brown files");
  return names;
}

}  // namespace

std::vector<int64_t> TaggingData::tag_counts() const {
  std::vector<int64_t> counts(tagset.size(), 0);
  for (const auto* split : {&train, &val, &test})
    for (const TaggedSentence& s : *split)
      for (const std::string& t : s.tags)
        if (auto it = std::find(tagset.begin(), tagset.end(), t); it != tagset.end())
          ++counts[size_t(it - tagset.begin())];
  return counts;
}

std::string TaggingData::summary() const {
  int64_t tokens = 0;
  for (const auto* split : {&train, &val, &test})
    for (const TaggedSentence& s : *split) tokens += int64_t(s.words.size());
  const size_t sentences = train.size() + val.size() + test.size();
  std::string s = printable(source) + ": " + with_commas(int64_t(sentences)) + " sentences (train " +
                  with_commas(int64_t(train.size())) + ", validation " + with_commas(int64_t(val.size())) + ", test " +
                  with_commas(int64_t(test.size())) + "), " + with_commas(tokens) + " tokens\n  " +
                  std::to_string(tagset.size()) + " tags by count:";
  const std::vector<int64_t> counts = tag_counts();
  std::vector<size_t> order(tagset.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return counts[a] > counts[b]; });
  for (size_t k = 0; k < order.size() && k < kSummaryTags; ++k)
    s += (k ? ", " : " ") + printable(tagset[order[k]]) + " " + with_commas(counts[order[k]]);
  if (order.size() > kSummaryTags) s += ", and " + std::to_string(order.size() - kSummaryTags) + " more";
  return s + "\n";
}

std::vector<TaggedSentence> read_tagged_file(const fs::path& file, bool universal, const LoadOptions& options) {
  return parse_tagged(read_text(file, options), file, universal);
}

int brown_split(std::string_view name) {
  if (!is_brown_name(name))
    throw std::runtime_error("brown_split: " + quote(name) + " is not a Brown file name c[a-r][0-9][0-9]");
  return split_of((name[2] - '0') * 10 + (name[3] - '0'));
}

TaggingData load_brown(const fs::path& data_dir, const LoadOptions& options) {
  const fs::path dir = data_dir / "brown";
  TaggingData d;
  d.tagset = universal_tags();
  d.source = dir.string();
  for (const std::string& name : brown_files(dir, options)) {
    const fs::path file = dir / name;
    const std::string bytes = read_standard(file, options);
    std::vector<TaggedSentence> sentences;
    try {
      sentences = parse_tagged(bytes, file, true);
    } catch (const std::runtime_error& e) {
      rethrow_with_fetch_hint(e);
    }
    const int split = brown_split(name);
    auto& target = split == 0 ? d.train : split == 1 ? d.val : d.test;
    for (auto& s : sentences) target.push_back(std::move(s));
  }
  if (options.check_counts)
    require_count(dir, int64_t(d.train.size() + d.val.size() + d.test.size()), kBrownSentences, "sentences");
  return d;
}

TaggingData load_tagging_file(const fs::path& file, const LoadOptions& options) {
  auto sentences = read_tagged_file(file, false, options);
  require_splittable(file, sentences.size(), "sentences");
  std::set<std::string> tags;
  for (const auto& s : sentences) tags.insert(s.tags.begin(), s.tags.end());
  if (tags.size() < 2)
    fail(file, "every token has the tag " + quote(*tags.begin()) + " (a tagger needs two or more tags)");
  TaggingData d;
  d.tagset.assign(tags.begin(), tags.end());
  d.source = file.string();
  distribute(std::move(sentences), d.train, d.val, d.test);
  return d;
}

}  // namespace seqgrad::experiments::data
