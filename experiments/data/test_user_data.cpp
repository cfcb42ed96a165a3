// Users' own data files that used to load as silent garbage (issue 12): a ';'-separated series with
// decimal commas, ragged CSV rows, a single tag, UTF-16 text, a TSV header line taken for a class,
// /dev/zero and pipes, raw bytes in messages. Each must now be an error that names the file, the line
// and the problem, or (BOM, character ids) load exactly as documented.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "experiments/data/data.h"
#include "temp_dir.h"

using namespace seqgrad::experiments::data;
using Catch::Matchers::Contains;
using seqgrad::testing::TempDir;

namespace {

std::string write(const TempDir& dir, const std::string& name, const std::string& bytes) {
  std::ofstream out(dir.path / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  return dir.file(name);
}

// The message of the std::runtime_error f throws ("" when it throws none).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// f throws a std::runtime_error whose message contains every piece.
void require_error(const std::function<void()>& f, const std::vector<std::string>& pieces) {
  const std::string what = error_of(f);
  INFO(what);
  REQUIRE_FALSE(what.empty());
  for (const auto& p : pieces) CHECK_THAT(what, Contains(p));
}

// n lines "<prefix><i><suffix>" for i = 1..n.
std::string numbered(int n, const std::string& prefix, const std::string& suffix) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += prefix + std::to_string(i) + suffix + "\n";
  return s;
}

// Every loader of a user's file, by name.
const std::vector<std::pair<std::string, std::function<void(const std::string&)>>>& user_loaders() {
  static const std::vector<std::pair<std::string, std::function<void(const std::string&)>>> all = {
      {"json", [](const std::string& p) { read_sentiment_json(p); }},
      {"tsv", [](const std::string& p) { load_classification_tsv(p); }},
      {"tagged", [](const std::string& p) { load_tagging_file(p); }},
      {"text", [](const std::string& p) { load_text(p); }},
      {"series", [](const std::string& p) { load_series_csv(p); }}};
  return all;
}

}  // namespace

TEST_CASE("user data: a semicolon-separated series with decimal commas is an error, not the digits after the comma",
          "[data]") {
  TempDir dir("ud-semicolon");
  require_error([&] { load_series_csv(write(dir, "eu.csv", "t;value\n" + numbered(12, "", ";2,5"))); },
                {"eu.csv:1:", "';'-separated", "decimal commas", "'2,5'", "'.' decimals"});
  require_error([&] { load_series_csv(write(dir, "eu2.csv", numbered(12, "", ";7,25"))); },
                {"eu2.csv:1:", "';'-separated", "decimal commas"});
  require_error([&] { load_series_csv(write(dir, "tabs.csv", numbered(12, "", "\t7.5"))); },
                {"tabs.csv:1:", "tab-separated"});
}

TEST_CASE("user data: series rows with another column count than the first data row are errors", "[data]") {
  TempDir dir("ud-ragged");
  require_error([&] { load_series_csv(write(dir, "r.csv", "t,v\n1,2\n2,3,4\n" + numbered(10, "", ",1"))); },
                {"r.csv:3:", "3 columns, expected 2 like line 2"});
  require_error([&] { load_series_csv(write(dir, "h.csv", "value\n" + numbered(12, "", ",1"))); },
                {"h.csv:1:", "1 column, expected 2 like line 2"});
  require_error([&] { load_series_csv(write(dir, "d.csv", "1,5\n2\n" + numbered(10, "", ",1"))); },
                {"d.csv:2:", "1 column, expected 2 like line 1"});
}

TEST_CASE("user data: a tagging file with one distinct tag is an error", "[data]") {
  TempDir dir("ud-onetag");
  require_error([&] { load_tagging_file(write(dir, "one.txt", numbered(12, "w", "/N x/N"))); },
                {"one.txt", "every token has the tag 'N'", "two or more"});
}

TEST_CASE("user data: NUL bytes and UTF-16 or UTF-32 byte order marks are rejected by every loader", "[data]") {
  TempDir dir("ud-nul");
  std::string utf16;  // "ab\n" 12 times as UTF-16LE without a BOM
  for (int i = 0; i < 12; ++i) utf16 += std::string("a\0b\0\n\0", 6);
  for (const auto& [name, load] : user_loaders()) {
    INFO(name);
    const std::string file = name + ".utf16";
    require_error([&, load = load] { load(write(dir, file, utf16)); },
                  {file + ": NUL byte at offset 1 (line 1)", "UTF-16", "save it as UTF-8"});
    require_error([&, load = load] { load(write(dir, "le" + file, "\xFF\xFE" + utf16)); },
                  {"le" + file, "UTF-16LE byte order mark", "save it as UTF-8"});
    require_error([&, load = load] { load(write(dir, "be" + file, std::string("\0\0\xFE\xFF", 4) + utf16)); },
                  {"be" + file, "UTF-32BE byte order mark", "save it as UTF-8"});
  }
  require_error([&] { load_text(write(dir, "late.txt", "abcdefghij\nkl" + std::string(1, '\0') + "mnopq")); },
                {"late.txt: NUL byte at offset 13 (line 2)"});
}

TEST_CASE("user data: a UTF-8 byte order mark is stripped, not a character", "[data]") {
  TempDir dir("ud-bom");
  const std::string text = "abcabcabcabcabcabcab";
  CharCorpus with = load_text(write(dir, "bom.txt", "\xEF\xBB\xBF" + text));
  CharCorpus without = load_text(write(dir, "plain.txt", text));
  CHECK(with.characters == 20);
  CHECK(with.vocab.tokens() == without.vocab.tokens());
  CHECK(with.train == without.train);
  CHECK(with.val == without.val);
  auto tsv = load_classification_tsv(
      write(dir, "bom.tsv", "\xEF\xBB\xBF" + numbered(5, "a\tx", "") + numbered(5, "b\ty", "")));
  CHECK(tsv.classes == std::vector<std::string>{"a", "b"});
}

TEST_CASE("user data: a TSV header line is not taken for a class of one record", "[data]") {
  TempDir dir("ud-header");
  std::string body = "party\ttext\n";
  for (int i = 0; i < 6; ++i) body += "left\tvote a\nright\tvote b\n";
  require_error([&] { load_classification_tsv(write(dir, "votes.tsv", body)); },
                {"votes.tsv: class 'party' has 1 record (line 1)", "a header line?", "at least 2"});
  require_error(
      [&] { load_classification_tsv(write(dir, "late.tsv", numbered(11, "a\tx", "") + "odd\tz\n" + "b\ty\nb\ty\n")); },
      {"late.tsv: class 'odd' has 1 record (line 12)"});
}

TEST_CASE("user data: devices and pipes are refused before reading, so /dev/zero cannot hang a run", "[data]") {
  TempDir dir("ud-dev");
  const std::string fifo = dir.file("pipe.txt");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (const auto& [name, load] : user_loaders()) {
    INFO(name);
    require_error([load = load] { load("/dev/zero"); }, {"/dev/zero: not a regular file"});
    require_error([&, load = load] { load(fifo); }, {"pipe.txt: not a regular file"});
    require_error([&, load = load] { load(dir.path.string()); }, {"is a folder"});
  }
}

TEST_CASE("user data: messages show file names, labels and fields as printable ASCII", "[data]") {
  TempDir dir("ud-printable");
  auto clean = [](const std::string& s) {
    for (unsigned char c : s)
      if (c < 0x20 || c >= 0x7f) return false;
    return true;
  };
  const std::string odd = "caf\xC3\xA9\x1B[31m";
  std::string one_label;
  for (int i = 0; i < 10; ++i) one_label += odd + "\tsame\n";
  const std::string m1 = error_of([&] { load_classification_tsv(write(dir, "l.tsv", one_label)); });
  CHECK_THAT(m1, Contains("caf\\xC3\\xA9\\x1B[31m"));
  CHECK(clean(m1));
  const std::string m2 = error_of([&] { load_text(write(dir, odd + ".txt", "\xFF")); });
  CHECK_THAT(m2, Contains("caf\\xC3\\xA9\\x1B[31m.txt"));
  CHECK(clean(m2));
  const std::string m3 = error_of([&] { load_series_csv(write(dir, "f.csv", "1\n2\n\xC3\xA9t\xC3\xA9\n")); });
  CHECK_THAT(m3, Contains("'\\xC3\\xA9t\\xC3\\xA9'"));
  CHECK(clean(m3));
  const std::string m4 = error_of([&] { read_tagged_file(write(dir, "t.tag", "a/b \xC3\xA9\n"), false); });
  CHECK(clean(m4));
}

TEST_CASE("user data: character ids of a mixed text, written out (code-point order, training-only vocabulary)",
          "[data]") {
  TempDir dir("ud-chars");
  // 20 code points: "b a \n é 😀 a b é \n" twice, then "Z é" (validation; Z unseen in training).
  const std::string half =
      "ba\n\xC3\xA9\xF0\x9F\x98\x80"
      "ab\xC3\xA9\n";
  CharCorpus c = load_text(write(dir, "mixed.txt", half + half + "Z\xC3\xA9"), 0.9);
  CHECK(c.characters == 20);
  CHECK(c.vocab.tokens() == std::vector<std::string>{"<pad>", "<unk>", "\n", "a", "b", "\xC3\xA9", "\xF0\x9F\x98\x80"});
  CHECK(c.train == std::vector<int64_t>{4, 3, 2, 5, 6, 3, 4, 5, 2, 4, 3, 2, 5, 6, 3, 4, 5, 2});
  CHECK(c.val == std::vector<int64_t>{Vocabulary::kUnk, 5});
}

TEST_CASE("user data: a file over the size limit is refused before it is read", "[data]") {
  TempDir dir("ud-cap");
  const std::string file = write(dir, "big.txt", std::string(64, 'a') + "b");
  require_error([&] { load_text(file, 0.9, {.max_bytes = 64}); }, {"big.txt: 65 bytes, more than the limit of 64"});
  CHECK(load_text(file, 0.9, {.max_bytes = 65}).characters == 65);
}

TEST_CASE("user data: each loader says what it understood", "[data]") {
  TempDir dir("ud-summary");
  std::string tsv;
  for (int i = 0; i < 12; ++i)
    tsv += std::string(i % 3 == 0 ? "neg" : "pos") + "\tsentence " + std::to_string(i) + "\n";
  const ClassificationData c = load_classification_tsv(write(dir, "c.tsv", tsv));
  CHECK(c.class_counts() == std::vector<int64_t>{4, 8});
  CHECK(c.summary() ==
        dir.file("c.tsv") + ": 2 classes, 12 records (train 10, validation 1, test 1)\n  classes: neg 4, pos 8\n");

  const TaggingData t = load_tagging_file(write(dir, "t.txt", numbered(10, "w", "/N x/V y/N")));
  CHECK(t.tag_counts() == std::vector<int64_t>{20, 10});
  CHECK(t.summary() ==
        dir.file("t.txt") +
            ": 10 sentences (train 8, validation 1, test 1), 30 tokens\n  2 tags by count: N 20, V 10\n");

  const CharCorpus x = load_text(write(dir, "x.txt", "abcabcabcaz"), 0.8);
  CHECK(x.distinct == 4);
  CHECK(x.summary() == dir.file("x.txt") +
                           ": 11 characters (train 8, validation 3), 4 distinct\n  vocabulary 5 (<pad>, <unk> and the "
                           "training part's characters); 1 validation characters unseen in training (<unk>)\n");

  const ForecastData f = load_series_csv(write(dir, "f.csv", "t,level\n" + numbered(20, "", ",1.5")));
  CHECK(f.column == 1);
  CHECK(f.columns == 2);
  CHECK(f.column_name == "level");
  CHECK(f.summary() == dir.file("f.csv") +
                           ": column 1 (0-based) of 2, 'level' (header on line 1); 20 values (train 14, "
                           "validation 3, test 3)\n");
  const ForecastData g = load_series_csv(write(dir, "g.csv", numbered(4, "", ",2")), 0, 0.5, 0.25);
  CHECK(g.train.values == std::vector<double>{1, 2});
  CHECK(g.column_name.empty());
  CHECK_THAT(g.summary(), Contains("column 0 (0-based) of 2, no header line; 4 values"));
}
