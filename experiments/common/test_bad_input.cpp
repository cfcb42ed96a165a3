// The experiments' bad-input battery (issue 7): the data loaders and the option machinery a user's
// own files and flags go through. Every case must throw an error of ONE line naming the file or
// option and the problem. The library's battery: tests/test_bad_input.cpp; the real programs'
// option checks: experiments/common/bad_options.cmake.
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "bad_input.h"
#include "experiments/common/options.h"
#include "experiments/data/data.h"
#include "temp_dir.h"

using namespace seqgrad;
namespace data = seqgrad::experiments::data;
using seqgrad::testing::Action;
using seqgrad::testing::Case;
using seqgrad::testing::require_errors;
using seqgrad::testing::TempDir;

namespace {

std::string write(const TempDir& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir.file(name), std::ios::binary | std::ios::trunc) << bytes;
  return dir.file(name);
}

}  // namespace

// ---- files: data loaders -----------------------------------------------------------------------------

TEST_CASE("bad input: data files with bad encodings, empty lines, missing labels or values", "[bad-input]") {
  TempDir dir("bad-data");
  // A loader applied to a file written with `content` (or to a missing file, when content is null).
  auto loader = [&](auto load) {
    return [&dir, load](const std::string& name, const char* content) -> Action {
      const std::string path = content ? write(dir, name, content) : dir.file(name);
      return [load, path] { load(path); };
    };
  };
  auto json = loader([](const std::string& p) { data::read_sentiment_json(p); });
  auto tsv = loader([](const std::string& p) { data::load_classification_tsv(p); });
  auto tagged = loader([](const std::string& p) { data::load_tagging_file(p); });
  auto text = loader([](const std::string& p) { data::load_text(p); });
  auto series = loader([](const std::string& p) { data::load_series_csv(p); });
  std::string one_label;
  for (int i = 0; i < 10; ++i) one_label += "1\tsame label\n";
  require_errors({
      // Sentiment JSON: [{"text": string, "class": 0 | 1}, ...]
      {"json: invalid UTF-8",
       json("a.json", "[{\"text\":\"ok\",\"class\":1},\n{\"text\":\"caf\xE9\",\"class\":0}]"),
       {"a.json:2:", "invalid UTF-8"}},
      {"json: empty text",
       json("b.json", "[{\"text\":\"ok\",\"class\":1},\n{\"text\":\" \",\"class\":0}]"),
       {"b.json:2:", "empty \"text\""}},
      {"json: missing label", json("c.json", "[\n{\"text\":\"ok\"}]"), {"c.json:2:", "missing field \"class\""}},
      {"json: label not 0 or 1", json("d.json", "[\n{\"text\":\"ok\",\"class\":\"pos\"}]"), {"d.json:2:", "0 or 1"}},
      {"json: empty file", json("e.json", ""), {"e.json:1:", "file ends"}},
      {"json: missing file", json("absent.json", nullptr), {"absent.json", "file not found"}},
      // Classification TSV: label<TAB>text per line, no empty lines.
      {"tsv: invalid UTF-8", tsv("a.tsv", "1\tgood\n0\tbad \xFF\n"), {"a.tsv:2:", "invalid UTF-8"}},
      {"tsv: empty line", tsv("b.tsv", "1\tgood\r\n\r\n0\tbad\r\n"), {"b.tsv:2:", "empty line"}},
      {"tsv: missing label", tsv("c.tsv", "1\tgood\n\tno label\n"), {"c.tsv:2:", "missing label"}},
      {"tsv: missing tab", tsv("d.tsv", "1 good\n"), {"d.tsv:1:", "missing tab"}},
      {"tsv: missing text", tsv("e.tsv", "1\t  \n"), {"e.tsv:1:", "empty text"}},
      {"tsv: empty file", tsv("f.tsv", ""), {"f.tsv", "no records"}},
      {"tsv: too few records", tsv("g.tsv", "1\ta\n0\tb\n1\tc\n"), {"g.tsv", "too few records (3)", "at least 10"}},
      {"tsv: one label only", tsv("h.tsv", one_label.c_str()), {"h.tsv", "every record has the label '1'"}},
      {"tsv: missing file", tsv("absent.tsv", nullptr), {"absent.tsv", "file not found"}},
      // word/tag sentences, one per line (blank lines are skipped: see the next test).
      {"tagged: invalid UTF-8", tagged("a.tag", "the/DET\n\xC0\xAF/X\n"), {"a.tag:2:", "invalid UTF-8"}},
      {"tagged: missing tag", tagged("b.tag", "the/DET dog/\n"), {"b.tag:1:", "'dog/' is not word/tag"}},
      {"tagged: no slash", tagged("c.tag", "the/DET\nthe dog/NOUN\n"), {"c.tag:2:", "'the' is not word/tag"}},
      {"tagged: blank lines only", tagged("d.tag", "\n \t\n"), {"d.tag", "no sentences"}},
      {"tagged: empty file", tagged("e.tag", ""), {"e.tag", "no sentences"}},
      {"tagged: too few sentences", tagged("f.tag", "the/DET dog/NOUN\n"), {"f.tag", "too few sentences (1)"}},
      {"tagged: missing file", tagged("absent.tag", nullptr), {"absent.tag", "file not found"}},
      // Any UTF-8 text for the character model.
      {"text: invalid UTF-8", text("a.txt", "fine\nbad \xFF here\n"), {"a.txt:2:", "invalid UTF-8"}},
      {"text: empty file", text("b.txt", ""), {"b.txt", "too short", "(0 characters)"}},
      {"text: missing file", text("absent.txt", nullptr), {"absent.txt", "file not found"}},
      // Series CSV: one finite number per line in the last column; line 1 may be a header.
      {"series: invalid UTF-8", series("a.csv", "1\n2\xFE\n"), {"a.csv:2:", "invalid UTF-8"}},
      {"series: empty line", series("b.csv", "1\n\n2\n"), {"b.csv:2:", "empty line"}},
      {"series: missing value", series("c.csv", "t,v\n1,2\n2,\n"), {"c.csv:3:", "value '' is not a number"}},
      {"series: not a number", series("d.csv", "1\n2\nabc\n"), {"d.csv:3:", "'abc' is not a number"}},
      {"series: NaN", series("e.csv", "1\nnan\n2\n"), {"e.csv:2:", "'nan'", "finite"}},
      {"series: NaN on line 1 is no header", series("f.csv", "NaN\n1\n2\n3\n"), {"f.csv:1:", "'NaN'", "finite"}},
      {"series: infinity", series("g.csv", "1\n2\n-inf\n"), {"g.csv:3:", "'-inf'", "finite"}},
      {"series: overflow", series("h.csv", "1e999\n1\n2\n3\n"), {"h.csv:1:", "'1e999'", "finite"}},
      {"series: header only", series("i.csv", "value\n"), {"i.csv", "too few values (0)"}},
      {"series: empty file", series("j.csv", ""), {"j.csv", "too few values (0)"}},
      {"series: missing file", series("absent.csv", nullptr), {"absent.csv", "file not found"}},
  });
}

// The documented empty-line rules: TSV and CSV reject empty lines (above); word/tag files skip
// blank lines by design (corpora separate sentences with them) and never yield an empty sentence;
// for the character model an empty line is text like any other (its '\n' is a character).
TEST_CASE("bad input: blank lines never become empty examples", "[bad-input]") {
  TempDir dir("bad-blank");
  const auto sentences =
      data::read_tagged_file(write(dir, "t.tag", "\nthe/DET dog/NOUN\n \n\t\r\nbarks/VERB\n\n"), false);
  REQUIRE(sentences.size() == 2);
  for (const auto& s : sentences) {
    CHECK_FALSE(s.words.empty());
    CHECK(s.words.size() == s.tags.size());
  }
  const data::CharCorpus c = data::load_text(write(dir, "t.txt", "ab\n\ncd\n\nef\n\ngh\n\n"), 0.5);
  CHECK(c.characters == 16);
  CHECK(c.vocab.contains("\n"));
}

// ---- program options and config files ---------------------------------------------------------------------

namespace {

// A program declared like the studies' main.cpp: sizes are int64_t options checked with
// require_positive after parse, learning rates and other reals are doubles.
void run_toy_program(std::vector<std::string> args) {
  experiments::Program program("toy", "the bad-input battery's program");
  program.option<int64_t>("hidden", 8, "hidden units");
  program.option<int64_t>("batch", 4, "batch size");
  program.option<int64_t>("steps", 10, "training steps");
  program.option<int64_t>("layers", 1, "layers");
  program.option<double>("lr", 0.1, "learning rate");
  program.option<double>("forget-bias", 1.0, "forget-gate bias");
  args.insert(args.begin(), "toy");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (!program.parse(int(argv.size()), argv.data())) return;
  for (const char* size : {"hidden", "batch", "steps", "layers"})
    experiments::require_positive(size, double(program.get<int64_t>(size)));
  experiments::require_positive("lr", program.get<double>("lr"));
}

Action toy(std::vector<std::string> args) {
  return [args] { run_toy_program(args); };
}

}  // namespace

TEST_CASE("bad input: program options with bad sizes and learning rates, unknown options", "[bad-input]") {
  REQUIRE_NOTHROW(run_toy_program({"--hidden", "16", "--lr", "0.01"}));
  require_errors({
      {"--hidden 0", toy({"--hidden", "0"}), {"--hidden", "must be > 0", "got 0"}},
      {"--batch -4", toy({"--batch=-4"}), {"--batch", "got -4"}},
      {"--layers 0", toy({"--layers", "0"}), {"--layers", "got 0"}},
      {"--steps not a number", toy({"--steps", "ten"}), {"--steps", "'ten'", "invalid"}},
      {"--steps overflow", toy({"--steps", "99999999999999999999"}), {"--steps", "invalid"}},
      {"--seed -1", toy({"--seed", "-1"}), {"--seed", "'-1'", "must not be negative"}},
      {"--threads -2", toy({"--threads", "-2"}), {"--threads", "'-2'", ">= 0"}},
      {"--lr nan", toy({"--lr", "nan"}), {"--lr", "'nan'", "must be a finite number"}},
      {"--lr inf", toy({"--lr", "inf"}), {"--lr", "'inf'", "must be a finite number"}},
      {"--lr 1e999", toy({"--lr", "1e999"}), {"--lr", "'1e999'", "must be a finite number"}},
      {"--lr -0.1", toy({"--lr", "-0.1"}), {"--lr", "must be > 0", "got -0.1"}},
      {"--lr 0", toy({"--lr", "0"}), {"--lr", "must be > 0", "got 0"}},
      {"--forget-bias nan", toy({"--forget-bias", "NaN"}), {"--forget-bias", "'NaN'", "must be a finite number"}},
      {"unknown option", toy({"--hiden", "3"}), {"--hiden", "unrecognised"}},
      {"option without its value", toy({"--lr"}), {"--lr", "missing"}},
      {"stray argument", toy({"16"}), {"unexpected argument '16'"}},
  });
}

TEST_CASE("bad input: config files with unknown keys and bad values", "[bad-input]") {
  TempDir dir("bad-config");
  auto config = [&](const std::string& name, const std::string& content) {
    return toy({"--config", write(dir, name, content)});
  };
  require_errors({
      {"unknown key", config("a.ini", "hidden = 16\nhiden = 3\n"), {"a.ini", "hiden", "unrecognised"}},
      {"bad value", config("b.ini", "steps = ten\n"), {"b.ini", "'ten'", "steps"}},
      {"negative unsigned", config("c.ini", "seed = -3\n"), {"c.ini", "--seed", "must not be negative"}},
      {"NaN learning rate", config("d.ini", "lr = nan\n"), {"d.ini", "--lr", "'nan'", "finite"}},
      {"negative learning rate", config("e.ini", "lr = -1\n"), {"--lr", "got -1"}},
      {"zero size", config("f.ini", "batch = 0\n"), {"--batch", "got 0"}},
      {"line without '='", config("g.ini", "hidden\n"), {"g.ini", "'hidden'"}},
      {"nested config", config("h.ini", "config = other.ini\n"), {"h.ini", "'config'", "not allowed"}},
      {"missing file", toy({"--config", dir.file("absent.ini")}), {"--config", "absent.ini", "cannot read"}},
  });
}

TEST_CASE("bad input: zero and negative sizes in the batching helpers", "[bad-input]") {
  const std::vector<int64_t> ids(10, 1);
  require_errors({
      {"batch size 0", [&] { data::make_batches(10, 0); }, {"make_batches", "batch size 0"}},
      {"negative example count", [&] { data::make_batches(-1, 4); }, {"make_batches", "n = -1"}},
      {"stream of 0 rows", [&] { data::stream_batches(ids, 0); }, {"stream_batches", "batch 0"}},
      {"window of 0 steps", [&] { data::stream_batches(ids, 2).windows(0); }, {"steps 0"}},
      {"empty sequence in a batch",
       [&] {
         data::pad_batch({{1, 2}, {}});
       },
       {"pad_batch", "sequence 1 is empty"}},
  });
}
