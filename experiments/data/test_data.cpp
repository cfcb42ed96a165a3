// Dataset loaders (experiments/data/data.h) on tiny files generated in a temp folder: the sentiment
// fixtures JSON, user TSV, Brown word/tag lines with compound and negated tags, text for the char
// LM, sunspot and user CSVs; the universal-tag mapping, splits, vocabulary, padding, shuffling; and
// malformed input, each of which must throw an error naming the file and the line. No network.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "experiments/data/data.h"
#include "temp_dir.h"

using namespace seqgrad;
using namespace seqgrad::experiments::data;
using Catch::Matchers::Contains;
using seqgrad::testing::TempDir;

namespace {

std::string write(const TempDir& dir, const std::string& name, const std::string& bytes) {
  fs::path p = dir.path / name;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  return p.string();
}

const LoadOptions kNoCounts{.check_counts = false};

// The fixtures' shape: one line, records {"text","class"}, a final record with a null class.
std::string fixtures_json(int n, const std::string& prefix) {
  std::string s = "[";
  for (int i = 1; i <= n; ++i)
    s += "{\"text\":\"" + prefix + " sentence " + std::to_string(i) + ".\",\"class\":" + std::to_string(i % 2) + "},";
  return s + "{\"text\":\"\",\"class\":null}]";
}

// Runs f, which must throw std::runtime_error whose message contains every piece.
template <class F>
void require_error(F&& f, const std::vector<std::string>& pieces) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    INFO(what);
    for (const auto& p : pieces) CHECK_THAT(what, Contains(p));
    return;
  }
  FAIL("expected a std::runtime_error containing " << pieces.front());
}

}  // namespace

TEST_CASE("data: sentiment fixtures JSON, null terminator dropped, split per file", "[data]") {
  TempDir dir("data-sent");
  write(dir, "sentiment/amazon.json", fixtures_json(20, "amazon"));
  write(dir, "sentiment/imdb.json", fixtures_json(10, "imdb"));
  write(dir, "sentiment/yelp.json",
        "[\n {\"text\": \"Caf\\u00e9 \\\"great\\\" \\ud83d\\ude00\", \"class\": 1, \"extra\": [1, {\"a\": null}]},\n"
        " {\"class\": 0, \"text\": \"Meh.\"},\n {\"text\":\"\",\"class\":null}\n]\n");

  auto one = read_sentiment_json(dir.file("sentiment/yelp.json"));
  REQUIRE(one.size() == 2);
  CHECK(one[0].text == "Caf\xC3\xA9 \"great\" \xF0\x9F\x98\x80");
  CHECK(one[0].label == 1);
  CHECK(one[0].line == 2);
  CHECK(one[1].text == "Meh.");
  CHECK(one[1].label == 0);

  ClassificationData d = load_sentiment(dir.path, kNoCounts);
  CHECK(d.classes == std::vector<std::string>{"negative", "positive"});
  // amazon 20 -> 16/2/2, imdb 10 -> 8/1/1, yelp 2 -> 2/0/0.
  CHECK(d.train.size() == 26);
  CHECK(d.val.size() == 3);
  CHECK(d.test.size() == 3);
  CHECK(d.val[0].text == "amazon sentence 9.");
  CHECK(d.test[0].text == "amazon sentence 10.");
  CHECK(d.test[2].text == "imdb sentence 10.");

  // With the documented counts checked, these stand-ins are "truncated"; a missing file says how to
  // fetch it.
  require_error([&] { load_sentiment(dir.path); },
                {"amazon.json: 20 records, expected 1,000", "run scripts/fetch_data.sh"});
  TempDir empty("data-empty");
  require_error([&] { load_sentiment(empty.path); }, {"amazon.json", "not found", "run scripts/fetch_data.sh"});
}

TEST_CASE("data: malformed sentiment JSON names the file and line", "[data]") {
  TempDir dir("data-badjson");
  struct Case {
    std::string body, line, problem;
  };
  const std::vector<Case> cases = {
      {"[{\"text\":\"a\",\"class\":1},\n{\"text\":\"b\",\"class\":1}", ":2:", "file ends"},
      {"[{\"text\":\"a\",\"class\":1}]\n]", ":2:", "after the JSON value"},
      {"[\n{\"text\":\"a\" \"class\":1}]", ":2:", "expected '}'"},
      {"[\n{\"text\":\"a\",\"class\":1},\n{\"text\":\"b\"}]", ":3:", "missing field \"class\""},
      {"[\n{\"text\":\"a\",\"class\":null},\n{\"text\":\"b\",\"class\":1}]", ":2:", "only the final record"},
      {"[\n{\"text\":\"a\",\"class\":2}]", ":2:", "must be 0 or 1"},
      {"[\n{\"text\":7,\"class\":1}]", ":2:", "\"text\""},
      {"{\"text\":\"a\"}", ":1:", "expected a JSON array"},
      {"[\n{\"text\":\"a\\q\",\"class\":1}]", ":2:", "bad escape"},
      {"[\n{\"text\":\"a\n\",\"class\":1}]", ":2:", "unterminated string"},
      {"[\n\n{\"text\":\"\\ud800\",\"class\":1}]", ":3:", "surrogate"},
      {"[{\"text\":\"a\",\"class\":01}]", ":1:", "bad JSON"},
      {"[{\"text\":\"a\",\"class\":tru}]", ":1:", "unexpected"},
      {"[\n{\"text\":\"caf\xE9\",\"class\":1}]", ":2:", "invalid UTF-8"},
      {std::string(200, '['), ":1:", "nested more than 64"},
      {"", ":1:", "file ends"},
      {"[]", "", "no records"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string name = "bad" + std::to_string(i) + ".json";
    write(dir, name, cases[i].body);
    INFO("case " << i);
    require_error([&] { read_sentiment_json(dir.file(name)); }, {name + cases[i].line, cases[i].problem});
  }
}

TEST_CASE("data: user TSV label<TAB>text", "[data]") {
  TempDir dir("data-tsv");
  std::string body;
  for (int i = 1; i <= 10; ++i)
    body += std::string(i % 3 == 0 ? "10" : (i % 3 == 1 ? "2" : "0")) + "\tline " + std::to_string(i) + "\r\n";
  auto d = load_classification_tsv(write(dir, "ok.tsv", body));
  CHECK(d.classes == std::vector<std::string>{"0", "2", "10"});  // numeric order, not "0" "10" "2"
  REQUIRE(d.train.size() == 8);
  REQUIRE(d.val.size() == 1);
  REQUIRE(d.test.size() == 1);
  CHECK(d.train[0].text == "line 1");
  CHECK(d.train[0].label == 1);  // "2"
  CHECK(d.val[0].text == "line 9");
  CHECK(d.val[0].label == 2);  // "10"
  CHECK(d.test[0].line == 10);

  std::string ten;
  for (int i = 0; i < 5; ++i) ten += "pos\tgood\nneg\tbad\n";
  auto words = load_classification_tsv(write(dir, "words.tsv", ten));
  CHECK(words.classes == std::vector<std::string>{"neg", "pos"});

  require_error([&] { load_classification_tsv(write(dir, "notab.tsv", "1\tok\n1 no tab here\n")); },
                {"notab.tsv:2:", "missing tab"});
  require_error([&] { load_classification_tsv(write(dir, "empty.tsv", "1\tok\n\n0\tfine\n")); },
                {"empty.tsv:2:", "empty line"});
  require_error([&] { load_classification_tsv(write(dir, "nolabel.tsv", "1\tok\n0\tfine\n\tno label\n")); },
                {"nolabel.tsv:3:", "missing label"});
  require_error([&] { load_classification_tsv(write(dir, "notext.tsv", "1\t  \n")); }, {"notext.tsv:1:", "empty text"});
  require_error([&] { load_classification_tsv(write(dir, "latin1.tsv", "1\tok\n1\tna\xEFve\n")); },
                {"latin1.tsv:2:", "invalid UTF-8"});
  require_error([&] { load_classification_tsv(dir.file("absent.tsv")); }, {"absent.tsv", "not found"});
}

TEST_CASE("data: tokenizer lowercases, splits on non-alphanumerics, keeps inner apostrophes", "[data]") {
  CHECK(tokenize("Don't STOP -- it's 'great'!! 10/10") ==
        std::vector<std::string>{"don't", "stop", "it's", "great", "10", "10"});
  CHECK(tokenize("Caf\xC3\xA9 au-lait") == std::vector<std::string>{"caf\xC3\xA9", "au", "lait"});
  CHECK(tokenize("  ''  ...").empty());
}

TEST_CASE("data: universal tags for raw Brown tags", "[data]") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"nn", "NOUN"},       {"nns$", "NOUN"},  {"np-tl", "NOUN"}, {"nr", "NOUN"},
      {"nn-tl-hl", "NOUN"}, {"vb", "VERB"},    {"vbd", "VERB"},   {"bedz*", "VERB"},
      {"dod*", "VERB"},     {"hvz", "VERB"},   {"md", "VERB"},    {"md*-hl", "VERB"},
      {"jj", "ADJ"},        {"jjt-tl", "ADJ"}, {"rb", "ADV"},     {"rbr", "ADV"},
      {"ql", "ADV"},        {"qlp", "ADV"},    {"wql", "ADV"},    {"wrb", "ADV"},
      {"rn", "ADV"},        {"*", "ADV"},      {"*-hl", "ADV"},   {"pps", "PRON"},
      {"pp$$", "PRON"},     {"wps", "PRON"},   {"pn", "PRON"},    {"ppss+ber-n", "PRON"},
      {"at", "DET"},        {"ap$", "DET"},    {"abn", "DET"},    {"abx", "DET"},
      {"abl", "DET"},       {"dti", "DET"},    {"wdt", "DET"},    {"ex", "DET"},
      {"ex+bez", "DET"},    {"in", "ADP"},     {"in-tl", "ADP"},  {"cc", "CONJ"},
      {"cs", "CONJ"},       {"to", "PRT"},     {"rp", "PRT"},     {"cd", "NUM"},
      {"od", "NUM"},        {"cd$", "NUM"},    {".", "."},        {",", "."},
      {"``", "."},          {"''", "."},       {"--", "."},       {"(-hl", "."},
      {":", "."},           {"fw-nn", "X"},    {"fw-*", "X"},     {"fw-in+at-t", "X"},
      {"uh", "X"},          {"nil", "X"},      {"NP-TL", "NOUN"}};
  for (const auto& [raw, universal] : table) {
    INFO(raw);
    CHECK(universal_tag(raw) == universal);
  }
  for (std::string unknown : {"", "zz", "abc", "-tl", "$", "inx"}) {
    INFO(unknown);
    CHECK(universal_tag(unknown).empty());
  }
  CHECK(universal_tags().size() == 12);
}

TEST_CASE("data: Brown files, word/tag lines, split by file name", "[data]") {
  TempDir dir("data-brown");
  const std::string a =
      "\n\n\tThe/at Fulton/np-tl County/nn-tl jury/nn did/dod n't/* say/vb 1/2/cd ./.\n\n"
      "\tHe/pps didn't/dod* go/vb ./.\n";
  write(dir, "brown/ca01", a);
  write(dir, "brown/ca09", "\tA/at val/nn ./.\n");
  write(dir, "brown/cb10", "\tA/at test/nn ./.\n\tAnother/dt one/cd ./.\n");
  write(dir, "brown/README", "not a Brown file / ignored\n");

  auto s = read_tagged_file(dir.file("brown/ca01"), true);
  REQUIRE(s.size() == 2);
  CHECK(s[0].words == std::vector<std::string>{"The", "Fulton", "County", "jury", "did", "n't", "say", "1/2", "."});
  CHECK(s[0].tags == std::vector<std::string>{"DET", "NOUN", "NOUN", "NOUN", "VERB", "ADV", "VERB", "NUM", "."});
  CHECK(s[1].tags == std::vector<std::string>{"PRON", "VERB", "VERB", "."});
  auto raw = read_tagged_file(dir.file("brown/ca01"), false);
  CHECK(raw[0].tags[1] == "np-tl");
  CHECK(raw[1].tags[1] == "dod*");

  CHECK(brown_split("ca01") == 0);
  CHECK(brown_split("cr09") == 1);
  CHECK(brown_split("cj70") == 2);
  CHECK_THROWS_WITH(brown_split("cz01"), Contains("not a Brown file name"));

  TaggingData d = load_brown(dir.path, kNoCounts);
  CHECK(d.tagset == universal_tags());
  CHECK(d.train.size() == 2);
  REQUIRE(d.val.size() == 1);
  CHECK(d.val[0].words[1] == "val");
  CHECK(d.test.size() == 2);
  require_error([&] { load_brown(dir.path); }, {"brown: 3 Brown files, expected 500", "run scripts/fetch_data.sh"});
  TempDir empty("data-nobrown");
  require_error([&] { load_brown(empty.path); }, {"brown", "not found", "run scripts/fetch_data.sh"});

  // 500 files (the real count) whose content differs: the parse error of a standard file says how
  // to fetch it again; with the right content but too few sentences, the count says it.
  TempDir full("data-brown500");
  for (int k = 0; k < 500; ++k) {
    std::string n = "c";
    n += static_cast<char>('a' + k / 99);
    int num = k % 99 + 1;
    n += static_cast<char>('0' + num / 10);
    n += static_cast<char>('0' + num % 10);
    write(full, "brown/" + n, "\tA/at b/zz\n");
  }
  require_error([&] { load_brown(full.path); }, {"ca01:1:", "'zz' has no universal tag", "run scripts/fetch_data.sh"});
  for (const auto& entry : fs::directory_iterator(full.path / "brown"))
    write(full, "brown/" + entry.path().filename().string(), "\tA/at b/nn\n");
  require_error([&] { load_brown(full.path); }, {"brown: 500 sentences, expected 57,340", "run scripts/fetch_data.sh"});
  const TaggingData all = load_brown(full.path, kNoCounts);
  CHECK(all.train.size() + all.val.size() + all.test.size() == 500);

  write(dir, "bad/brown/ca01", "\tThe/at jury/nn ./.\n\tThe/at jury/zz ./.\n");
  require_error([&] { load_brown(dir.path / "bad", kNoCounts); }, {"ca01:2:", "'zz' has no universal tag"});
}

TEST_CASE("data: malformed word/tag files name the file and line", "[data]") {
  TempDir dir("data-badtags");
  require_error([&] { read_tagged_file(write(dir, "unk", "\tThe/at\n\tjury/zz ./.\n"), true); },
                {"unk:2:", "'zz' has no universal tag"});
  require_error([&] { read_tagged_file(write(dir, "noslash", "a/b\nc/d e\n"), false); }, {"noslash:2:", "'e'"});
  require_error([&] { read_tagged_file(write(dir, "notag", "a/b c/\n"), false); }, {"notag:1:", "not word/tag"});
  require_error([&] { read_tagged_file(write(dir, "noword", "a/b\n\n/x\n"), false); }, {"noword:3:", "not word/tag"});
  require_error([&] { read_tagged_file(write(dir, "enc", "a/b\n\xC0\xAF/x\n"), false); }, {"enc:2:", "invalid UTF-8"});
  require_error([&] { read_tagged_file(write(dir, "blank", "\n \n"), false); }, {"blank", "no sentences"});
}

TEST_CASE("data: user tagging file keeps its tags, sentence split rule", "[data]") {
  TempDir dir("data-usertags");
  std::string body;
  for (int i = 1; i <= 20; ++i) (body += "w").append(std::to_string(i)).append("/N and/C x/y/V\n");
  TaggingData d = load_tagging_file(write(dir, "mine.txt", body));
  CHECK(d.tagset == std::vector<std::string>{"C", "N", "V"});
  CHECK(d.train.size() == 16);
  REQUIRE(d.val.size() == 2);
  CHECK(d.test.size() == 2);
  CHECK(d.val[0].words == std::vector<std::string>{"w9", "and", "x/y"});
  CHECK(d.test[1].words[0] == "w20");
}

TEST_CASE("data: character corpus 90/10 with a training-only, code-point-ordered vocabulary", "[data]") {
  TempDir dir("data-text");
  // 20 code points: "abcab—" repeated... the last 10% (2 chars) hold 'z' and 'é', unseen in training.
  std::string text =
      "bacab\xE2\x80\x94"
      "cabba\xE2\x80\x94"
      "abcab\xE2\x80\x94z\xC3\xA9";
  CharCorpus c = load_text(write(dir, "t.txt", text), 0.9);
  CHECK(c.characters == 20);
  CHECK(c.train.size() == 18);
  CHECK(c.val.size() == 2);
  CHECK(c.vocab.tokens() == std::vector<std::string>{"<pad>", "<unk>", "a", "b", "c", "\xE2\x80\x94"});
  CHECK(c.train[0] == c.vocab.id("b"));
  CHECK(c.train[5] == 5);
  CHECK(c.val == std::vector<int64_t>{Vocabulary::kUnk, Vocabulary::kUnk});

  require_error([&] { load_text(write(dir, "bad.txt", "fine\nfine\nbad \xFF here\n")); },
                {"bad.txt:3:", "invalid UTF-8"});
  require_error([&] { load_text(write(dir, "short.txt", "ab")); }, {"short.txt", "too short"});
  require_error([&] { load_text(dir.file("t.txt"), 1.5); }, {"t.txt", "train fraction"});
  TempDir empty("data-nomoby");
  require_error([&] { load_moby_dick(empty.path); }, {"moby_dick.txt", "run scripts/fetch_data.sh"});
  write(empty, "moby_dick/moby_dick.txt", text);
  require_error([&] { load_moby_dick(empty.path); },
                {"moby_dick.txt: 20 characters, expected 1,190,317", "run scripts/fetch_data.sh"});
  CHECK(load_moby_dick(empty.path, kNoCounts).characters == 20);
}

TEST_CASE("data: sunspot CSV split by year, user CSV by fraction", "[data]") {
  TempDir dir("data-sun");
  std::string csv = "year,month,value\n";
  for (int y : {1749, 1950, 1951, 1980, 1981, 2013})
    csv += std::to_string(y) + ",1," + std::to_string(y % 100) + ".5\n";
  write(dir, "sunspots/sunspot_month.csv", csv);
  ForecastData s = load_sunspots(dir.path, kNoCounts);
  CHECK(s.train.values == std::vector<double>{49.5, 50.5});
  CHECK(s.val.year == std::vector<int>{1951, 1980});
  CHECK(s.test.values == std::vector<double>{81.5, 13.5});
  CHECK(s.test.month == std::vector<int>{1, 1});
  require_error([&] { load_sunspots(dir.path); },
                {"sunspot_month.csv: 6 values, expected 3,177", "run scripts/fetch_data.sh"});
  write(dir, "badsun/sunspots/sunspot_month.csv", "year,month,value\n1749,1,5\n1750,13,5\n");
  require_error([&] { load_sunspots(dir.path / "badsun", kNoCounts); }, {"sunspot_month.csv:3:", "month"});
  write(dir, "nohead/sunspots/sunspot_month.csv", "1749,1,5\n");
  require_error([&] { load_sunspots(dir.path / "nohead", kNoCounts); }, {"sunspot_month.csv:1:", "header"});

  std::string user = "t,value\n";
  for (int i = 0; i < 20; ++i) user += std::to_string(i) + "," + std::to_string(i * 0.5) + "\n";
  ForecastData u = load_series_csv(write(dir, "mine.csv", user));
  CHECK(u.train.values.size() == 14);
  CHECK(u.val.values.size() == 3);
  CHECK(u.test.values.size() == 3);
  CHECK(u.train.values[1] == 0.5);
  CHECK(u.test.values.back() == 9.5);
  CHECK(u.train.year.empty());
  ForecastData first = load_series_csv(write(dir, "plain.csv", "1\n2\n3\n-4e1\n"), 0, 0.5, 0.25);
  CHECK(first.train.values == std::vector<double>{1, 2});
  CHECK(first.test.values == std::vector<double>{-40});

  require_error([&] { load_series_csv(write(dir, "nan.csv", "v\n1\n2\nabc\n")); },
                {"nan.csv:4:", "'abc' is not a number"});
  require_error([&] { load_series_csv(write(dir, "inf.csv", "1\ninf\n")); }, {"inf.csv:2:", "not a number"});
  require_error([&] { load_series_csv(write(dir, "gap.csv", "1\n\n2\n")); }, {"gap.csv:2:", "empty line"});
  require_error([&] { load_series_csv(write(dir, "cols.csv", "1\n3\n"), 1); },
                {"cols.csv:1:", "has 1 column, no column 1"});
  require_error([&] { load_series_csv(write(dir, "few.csv", "1\n2\n")); }, {"few.csv", "too few values"});
  require_error([&] { load_series_csv(write(dir, "enc.csv", "1\n2\xFE\n")); }, {"enc.csv:2:", "invalid UTF-8"});
}

TEST_CASE("data: vocabulary is deterministic, frequency then byte order, from training data", "[data]") {
  std::vector<std::vector<std::string>> train = {{"b", "a", "c", "a"}, {"d", "b", "a", "c", "e"}};
  Vocabulary v = Vocabulary::build(train);
  CHECK(v.tokens() == std::vector<std::string>{"<pad>", "<unk>", "a", "b", "c", "d", "e"});
  CHECK(v.id("<pad>") == Vocabulary::kPad);
  CHECK(v.id("never") == Vocabulary::kUnk);
  CHECK(v.encode({"c", "zz", "a"}) == std::vector<int64_t>{4, 1, 2});
  CHECK(v.token(3) == "b");
  CHECK_THROWS_WITH(v.token(7), Contains("out of range"));
  // Same data in another order: same vocabulary.
  Vocabulary w = Vocabulary::build({{"e", "c", "a", "b"}, {"a", "c", "d", "a", "b"}});
  CHECK(w.tokens() == v.tokens());
  Vocabulary small = Vocabulary::build(train, {.min_count = 2, .max_size = 4});
  CHECK(small.tokens() == std::vector<std::string>{"<pad>", "<unk>", "a", "b"});
  Vocabulary sorted = Vocabulary::build(train, {.order = Vocabulary::Order::sorted, .specials = false});
  CHECK(sorted.tokens() == std::vector<std::string>{"a", "b", "c", "d", "e"});
  CHECK_THROWS_WITH(sorted.id("zz"), Contains("unknown token"));
  Vocabulary tags = Vocabulary::from_tokens(universal_tags(), false);
  CHECK(tags.id("NOUN") == 0);
  CHECK(tags.id("X") == 11);
  CHECK_THROWS(Vocabulary::from_tokens({"a", "a"}, false));
}

TEST_CASE("data: padding with lengths, batches and shuffling are deterministic", "[data]") {
  std::vector<std::vector<int64_t>> seqs = {{5, 6, 7}, {8}, {9, 10}};
  PaddedBatch all = pad_batch(seqs);
  CHECK(all.batch == 3);
  CHECK(all.steps == 3);
  CHECK(all.ids == std::vector<int64_t>{5, 6, 7, 8, 0, 0, 9, 10, 0});
  CHECK(all.lengths == std::vector<int64_t>{3, 1, 2});
  std::vector<int64_t> pick = {2, 1};
  PaddedBatch some = pad_batch(seqs, pick, -100);
  CHECK(some.steps == 2);
  CHECK(some.ids == std::vector<int64_t>{9, 10, 8, -100});
  PaddedBatch cut = pad_batch(seqs, {}, 0, 2);
  CHECK(cut.lengths == std::vector<int64_t>{2, 1, 2});
  CHECK(cut.ids == std::vector<int64_t>{5, 6, 8, 0, 9, 10});
  std::vector<std::vector<int64_t>> with_empty = {{1}, {}};
  CHECK_THROWS_WITH(pad_batch(with_empty), Contains("sequence 1 is empty"));
  std::vector<int64_t> bad = {3};
  CHECK_THROWS_WITH(pad_batch(seqs, bad), Contains("out of range"));

  Rng r1(42), r2(42), r3(43);
  auto a = shuffled_indices(50, r1);
  CHECK(a == shuffled_indices(50, r2));
  CHECK(a != shuffled_indices(50, r3));
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) CHECK(sorted[static_cast<size_t>(i)] == i);

  auto plain = make_batches(7, 3);
  CHECK(plain == std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}, {6}});
  Rng r4(42), r5(42);
  auto shuffled = make_batches(50, 16, &r4);
  REQUIRE(shuffled.size() == 4);
  CHECK(shuffled[0] == std::vector<int64_t>(a.begin(), a.begin() + 16));
  CHECK(shuffled == make_batches(50, 16, &r5));
  CHECK_THROWS(make_batches(5, 0));

  std::vector<int64_t> stream = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  StreamBatches sb = stream_batches(stream, 2);  // rows 0..4 and 5..9, 10 dropped
  CHECK(sb.row_length == 5);
  CHECK(sb.windows(3) == 2);
  std::vector<int64_t> x, y;
  sb.window(0, 3, x, y);
  CHECK(x == std::vector<int64_t>{0, 1, 2, 5, 6, 7});
  CHECK(y == std::vector<int64_t>{1, 2, 3, 6, 7, 8});
  sb.window(1, 3, x, y);
  CHECK(x == std::vector<int64_t>{3, 8});
  CHECK(y == std::vector<int64_t>{4, 9});
  CHECK_THROWS_WITH(sb.window(2, 3, x, y), Contains("out of range"));
  CHECK_THROWS_WITH(stream_batches(stream, 6), Contains("too few"));
}
