// Text classification data (many-to-one): the UCI sentiment fixtures (JSON) and a user's
// label<TAB>text file, with the per-class counts and summary that say what was understood.
#include <algorithm>
#include <stdexcept>

#include "experiments/data/text.h"
#include "nn/io/json.h"

namespace seqgrad::experiments::data {

using namespace detail;

namespace {

constexpr int64_t kSentimentRecordsPerFile = 1000;

// The records of one fixtures file (already read and checked as UTF-8).
std::vector<TextExample> parse_sentiment(std::string_view bytes, const fs::path& file) {
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
    const std::string where = "record " + std::to_string(i + 1) + ": ";
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
    out.push_back({text->text, static_cast<int64_t>(cls->number()), file.string(), r.line});
  }
  if (out.empty()) fail(file, "no records");
  return out;
}

// Labels and texts of a label<TAB>text file, in file order.
void parse_tsv(std::string_view bytes, const fs::path& file, std::vector<TextExample>& examples,
               std::vector<std::string>& labels) {
  for (auto [line, text] : split_lines(bytes)) {
    if (is_blank(text)) fail(file, line, "empty line (expected label<TAB>text)");
    const size_t tab = text.find('\t');
    if (tab == std::string_view::npos) fail(file, line, "missing tab (expected label<TAB>text): " + quote(text));
    const std::string_view label = trim(text.substr(0, tab));
    const std::string_view sentence = trim(text.substr(tab + 1));
    if (label.empty()) fail(file, line, "missing label (expected label<TAB>text)");
    if (sentence.empty()) fail(file, line, "empty text after the label");
    examples.push_back({std::string(sentence), 0, file.string(), line});
    labels.emplace_back(label);
  }
  if (examples.empty()) fail(file, "no records (expected label<TAB>text lines)");
}

// The distinct labels, sorted (numerically when all are non-negative integers); two or more.
std::vector<std::string> class_list(const fs::path& file, const std::vector<std::string>& labels) {
  std::vector<std::string> classes(labels.begin(), labels.end());
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  if (classes.size() < 2)
    fail(file, "every record has the label " + quote(classes[0]) + " (a classifier needs two or more)");
  const bool numeric = std::all_of(classes.begin(), classes.end(), [](const std::string& c) {
    return c.size() <= 18 && std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  });
  if (numeric)
    std::sort(classes.begin(), classes.end(),
              [](const std::string& a, const std::string& b) { return std::stoll(a) < std::stoll(b); });
  return classes;
}

// A class with a single record is most likely a header line or a typo: an error naming its line.
void require_two_per_class(const fs::path& file, const std::vector<std::string>& classes,
                           const std::vector<TextExample>& examples) {
  std::vector<int64_t> count(classes.size(), 0), line(classes.size(), 0);
  for (const TextExample& x : examples) ++count[size_t(x.label)], line[size_t(x.label)] = x.line;
  for (size_t c = 0; c < classes.size(); ++c)
    if (count[c] == 1)
      fail(file, "class " + quote(classes[c]) + " has 1 record (line " + std::to_string(line[c]) +
                     "); a header line? every class needs at least 2 records");
}

}  // namespace

std::vector<int64_t> ClassificationData::class_counts() const {
  std::vector<int64_t> counts(classes.size(), 0);
  for (const auto* split : {&train, &val, &test})
    for (const TextExample& x : *split)
      if (x.label >= 0 && x.label < int64_t(counts.size())) ++counts[size_t(x.label)];
  return counts;
}

std::string ClassificationData::summary() const {
  const size_t records = train.size() + val.size() + test.size();
  std::string s = printable(source) + ": " + std::to_string(classes.size()) + " classes, " +
                  with_commas(int64_t(records)) + " records (train " + with_commas(int64_t(train.size())) +
                  ", validation " + with_commas(int64_t(val.size())) + ", test " + with_commas(int64_t(test.size())) +
                  ")\n  classes:";
  const std::vector<int64_t> counts = class_counts();
  for (size_t c = 0; c < classes.size(); ++c)
    s += (c ? ", " : " ") + printable(classes[c]) + " " + with_commas(counts[c]);
  return s + "\n";
}

std::vector<TextExample> read_sentiment_json(const fs::path& file, const LoadOptions& options) {
  return parse_sentiment(read_text(file, options), file);
}

ClassificationData load_sentiment(const fs::path& data_dir, const LoadOptions& options) {
  ClassificationData d;
  d.classes = {"negative", "positive"};
  d.source = (data_dir / "sentiment").string();
  for (const char* name : {"amazon.json", "imdb.json", "yelp.json"}) {
    const fs::path file = data_dir / "sentiment" / name;
    const std::string bytes = read_standard(file, options);
    std::vector<TextExample> records;
    try {
      records = parse_sentiment(bytes, file);
    } catch (const std::runtime_error& e) {
      rethrow_with_fetch_hint(e);
    }
    if (options.check_counts) require_count(file, int64_t(records.size()), kSentimentRecordsPerFile, "records");
    distribute(std::move(records), d.train, d.val, d.test);
  }
  return d;
}

ClassificationData load_classification_tsv(const fs::path& file, const LoadOptions& options) {
  std::vector<TextExample> examples;
  std::vector<std::string> labels;
  parse_tsv(read_text(file, options), file, examples, labels);
  require_splittable(file, examples.size(), "records");
  ClassificationData d;
  d.classes = class_list(file, labels);
  for (size_t i = 0; i < examples.size(); ++i)
    examples[i].label = std::find(d.classes.begin(), d.classes.end(), labels[i]) - d.classes.begin();
  require_two_per_class(file, d.classes, examples);
  d.source = file.string();
  distribute(std::move(examples), d.train, d.val, d.test);
  return d;
}

}  // namespace seqgrad::experiments::data
