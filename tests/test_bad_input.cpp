// The bad-input battery (issue 7, "Bad input everywhere"): the list walked item by item
// through the public API a user hits. Every case must throw an error of ONE line naming the file or
// option and the problem; none may crash (this file also runs under ASan + UBSan) or accept garbage.
// A few representative cases per item; the exhaustive sweeps live with each component: every
// truncation length and every single-bit flip of a checkpoint (test_checkpoint.cpp), byte
// corruption of safetensors headers (test_safetensors.cpp), every malformed-JSON shape
// (test_data.cpp), and the real programs' option checks (experiments/programs/bad_options.cmake).
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "experiments/common/data.h"
#include "experiments/common/experiment.h"
#include "nn/cells.h"
#include "nn/checkpoint.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "nn/safetensors.h"
#include "optim/optim.h"
#include "temp_dir.h"

using namespace seqgrad;
namespace data = seqgrad::experiments::data;
namespace po = boost::program_options;
using seqgrad::testing::TempDir;
using Action = std::function<void()>;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// One bad input: what it is, what to do with it, and what the error must say (the file or option
// AND the problem).
struct Case {
  std::string label;
  Action action;
  std::vector<std::string> says;
};

// The message of the exception `action` throws; "" when it throws none.
std::string error_of(const Action& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Every case throws a message of one line that contains all of its `says`.
void require_errors(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const std::string message = error_of(c.action);
    INFO(c.label << " -> " << (message.empty() ? "<no error>" : message));
    CHECK_FALSE(message.empty());
    CHECK(message.find('\n') == std::string::npos);
    for (const std::string& s : c.says) CHECK(message.find(s) != std::string::npos);
  }
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string write(const TempDir& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir.file(name), std::ios::binary | std::ios::trunc) << bytes;
  return dir.file(name);
}

std::string flip_bit(std::string bytes, size_t at) {
  bytes[at] = char(bytes[at] ^ 1);
  return bytes;
}

// The parameter values of `m`, copied, to check that a failed load changed nothing.
std::vector<Tensor> values_of(nn::Module& m) {
  std::vector<Tensor> out;
  for (auto& [_, p] : m.named_parameters()) out.push_back(p->value.clone());
  return out;
}
bool unchanged(nn::Module& m, const std::vector<Tensor>& before) {
  auto params = m.named_parameters();
  for (size_t i = 0; i < params.size(); ++i)
    if (!bitwise_equal(params[i].second->value, before[i])) return false;
  return true;
}

// A Linear(3, 2) written by `save`, its file's `bytes`, and actions that load other bytes (or a
// missing file) back into it with `load`.
struct SavedModel {
  using FileOp = std::function<void(const std::string& path, nn::Module& m)>;
  TempDir dir;
  Rng rng{1};
  nn::Linear model{3, 2, rng};
  FileOp load_file;
  std::string bytes;
  std::vector<Tensor> before = values_of(model);

  SavedModel(const std::string& prefix, const FileOp& save, FileOp load) : dir(prefix), load_file(std::move(load)) {
    save(dir.file("good"), model);
    bytes = slurp(dir.file("good"));
  }
  Action load(const std::string& name, const std::string& content) { return load_path(write(dir, name, content)); }
  Action load_path(const std::string& path) {
    return [this, path] { load_file(path, model); };
  }
};

}  // namespace

// ---- files: checkpoints and safetensors ------------------------------------------------------------

TEST_CASE("bad input: truncated and bit-flipped checkpoints", "[bad-input]") {
  SavedModel saved("bad-ckpt", nn::save_module, nn::load_module);
  const std::string& bytes = saved.bytes;
  const size_t n = bytes.size();
  require_errors({
      {"0 bytes", saved.load("empty.sgck", ""), {"empty.sgck", "truncated: 0 bytes"}},
      {"cut inside the magic", saved.load("magic.sgck", bytes.substr(0, 5)), {"magic.sgck", "truncated: 5 bytes"}},
      {"header only", saved.load("header.sgck", bytes.substr(0, 24)), {"header.sgck", "truncated: 24 bytes"}},
      {"half the body", saved.load("half.sgck", bytes.substr(0, n / 2)), {"half.sgck", "truncated"}},
      {"last byte missing", saved.load("last.sgck", bytes.substr(0, n - 1)), {"last.sgck", "truncated"}},
      {"flip in the magic", saved.load("f0.sgck", flip_bit(bytes, 0)), {"f0.sgck", "not a seqgrad checkpoint"}},
      {"flip in the version", saved.load("f8.sgck", flip_bit(bytes, 8)), {"f8.sgck", "format version 0"}},
      {"flip in the body length", saved.load("f17.sgck", flip_bit(bytes, 17)), {"f17.sgck", "truncated"}},
      {"flip in a tensor", saved.load("fdata.sgck", flip_bit(bytes, n - 10)), {"fdata.sgck", "checksum mismatch"}},
      {"flip in the checksum", saved.load("fcrc.sgck", flip_bit(bytes, n - 1)), {"fcrc.sgck", "checksum mismatch"}},
      {"a text file", saved.load("text.sgck", "weight = 1, 2, 3\n"), {"text.sgck", "not a seqgrad checkpoint"}},
      {"a missing file", saved.load_path(saved.dir.file("absent.sgck")), {"absent.sgck", "no such file"}},
  });
  CHECK(unchanged(saved.model, saved.before));
}

// safetensors has no checksum (the format's choice): a flipped bit in the DATA section cannot be
// detected and loads as a different number. Use checkpoints (CRC-32) where integrity matters.
TEST_CASE("bad input: truncated and bit-flipped safetensors", "[bad-input]") {
  auto save = [](const std::string& path, nn::Module& m) { nn::write_safetensors(path, nn::module_tensors(m)); };
  SavedModel saved("bad-st", save, nn::load_module_safetensors);
  const std::string& bytes = saved.bytes;
  const size_t n = bytes.size(), data_start = 8 + size_t(uint8_t(bytes[0]));
  const size_t shape_digit = bytes.find("\"shape\":[2,3]") + 9, name = bytes.find("\"weight\"") + 1;
  REQUIRE(uint8_t(bytes[1]) == 0);  // a header shorter than 256 bytes
  require_errors({
      {"0 bytes", saved.load("empty.st", ""), {"empty.st", "truncated: 0 bytes"}},
      {"cut in the length field", saved.load("len.st", bytes.substr(0, 5)), {"len.st", "truncated: 5 bytes"}},
      {"length field only", saved.load("only.st", bytes.substr(0, 8)), {"only.st", "header length", "exceeds the 0 bytes"}},
      {"cut in the header", saved.load("head.st", bytes.substr(0, data_start - 3)), {"head.st", "header length", "truncated"}},
      {"no data", saved.load("nodata.st", bytes.substr(0, data_start)), {"nodata.st", "data section of 0 bytes", "truncated"}},
      {"last byte missing", saved.load("last.st", bytes.substr(0, n - 1)), {"last.st", "out of range", "truncated"}},
      {"flip in the length", saved.load("f1.st", flip_bit(bytes, 1)), {"f1.st", "header length", "exceeds"}},
      {"flip in the JSON", saved.load("fjson.st", flip_bit(bytes, 8)), {"fjson.st", "bad header JSON at byte 0"}},
      {"flip in a shape", saved.load("fshape.st", flip_bit(bytes, shape_digit)), {"fshape.st", "'weight'", "(3, 3)", "needs 36"}},
      {"flip in a name", saved.load("fname.st", flip_bit(bytes, name)), {"fname.st", "no tensor 'weight'"}},
      {"a missing file", saved.load_path(saved.dir.file("absent.st")), {"absent.st", "no such file"}},
  });
  CHECK(unchanged(saved.model, saved.before));
}

TEST_CASE("bad input: wrong-shaped tensors in checkpoint, safetensors and resume files, foreign resume files", "[bad-input]") {
  TempDir dir("bad-shape");
  Rng rng(1);
  nn::Linear small(3, 2, rng), large(3, 4, rng);
  nn::save_module(dir.file("small.sgck"), small);
  nn::write_safetensors(dir.file("small.safetensors"), nn::module_tensors(small));
  optim::Adam small_adam(small.named_parameters()), large_adam(large.named_parameters());
  auto resumable = [&](nn::Module& m, optim::Optimizer& opt, const std::string& file, const std::string& config) {
    return optim::Resumable(dir.file(file), m, opt, {}, {.handle_stop_signals = false, .config = config});
  };
  auto resume = [&](nn::Module& m, optim::Optimizer& opt, const std::string& file, const std::string& config) -> Action {
    return [=, &m, &opt] { resumable(m, opt, file, config).resume(); };
  };
  resumable(small, small_adam, "run.sgck", "hidden = 2").save(3);
  nn::Checkpoint bad_step = nn::load_checkpoint(dir.file("run.sgck"));
  bad_step.texts["resume/step"] = "3x";
  nn::save_checkpoint(dir.file("step.sgck"), bad_step);
  // A PyTorch nn.RNN state_dict whose weight_hh_l0 is not (H, H).
  Rng torch_rng(2);
  const std::map<std::string, Tensor> torch_rnn = {{"weight_ih_l0", Tensor::normal({4, 3}, torch_rng)},
                                                   {"weight_hh_l0", Tensor::normal({4, 3}, torch_rng)}};
  const auto before = values_of(large);
  require_errors({
      {"checkpoint", [&] { nn::load_module(dir.file("small.sgck"), large); },
       {"small.sgck", "'param/weight'", "(2, 3)", "(4, 3)"}},
      {"safetensors", [&] { nn::load_module_safetensors(dir.file("small.safetensors"), large); },
       {"small.safetensors", "'weight'", "(2, 3)", "(4, 3)"}},
      {"resume checkpoint", resume(large, large_adam, "run.sgck", "hidden = 2"), {"run.sgck", "'param/weight'", "(2, 3)", "(4, 3)"}},
      {"PyTorch state_dict", [&] { nn::from_pytorch_rnn(torch_rnn, nn::TorchRnn::rnn); },
       {"'weight_hh_l0'", "(4, 3)", "(1·H, H)"}},
      {"resume file of another configuration", resume(small, small_adam, "run.sgck", "hidden = 4"),
       {"run.sgck", "another configuration", "line 1: checkpoint 'hidden = 2', this run 'hidden = 4'"}},
      {"resume step not a number", resume(small, small_adam, "step.sgck", "hidden = 2"), {"step.sgck", "resume/step '3x'"}},
  });
  CHECK(unchanged(large, before));
}

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
      {"json: invalid UTF-8", json("a.json", "[{\"text\":\"ok\",\"class\":1},\n{\"text\":\"caf\xE9\",\"class\":0}]"),
       {"a.json:2:", "invalid UTF-8"}},
      {"json: empty text", json("b.json", "[{\"text\":\"ok\",\"class\":1},\n{\"text\":\" \",\"class\":0}]"),
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
  const auto sentences = data::read_tagged_file(write(dir, "t.tag", "\nthe/DET dog/NOUN\n \n\t\r\nbarks/VERB\n\n"), false);
  REQUIRE(sentences.size() == 2);
  for (const auto& s : sentences) {
    CHECK_FALSE(s.words.empty());
    CHECK(s.words.size() == s.tags.size());
  }
  const data::CharCorpus c = data::load_text(write(dir, "t.txt", "ab\n\ncd\n\nef\n\ngh\n\n"), 0.5);
  CHECK(c.characters == 16);
  CHECK(c.vocab.contains("\n"));
}

// ---- sizes and learning rates ---------------------------------------------------------------------------

TEST_CASE("bad input: zero and negative sizes in constructors and helpers", "[bad-input]") {
  Rng rng(1);
  Tape tape;
  nn::Elman cell(2, 3, rng);
  const std::vector<int64_t> ids(10, 1), zero_length{0};
  const nn::ChunkCallback ignore = [](const nn::UnrollResult&, int64_t) {};
  require_errors({
      {"Linear in 0", [&] { nn::Linear(0, 2, rng); }, {"Linear", "in_features", "got 0"}},
      {"Linear out -1", [&] { nn::Linear(3, -1, rng); }, {"Linear", "out_features", "got -1"}},
      {"Embedding vocab 0", [&] { nn::Embedding(0, 4, rng); }, {"Embedding", "vocab_size", "got 0"}},
      {"Embedding dim -3", [&] { nn::Embedding(10, -3, rng); }, {"Embedding", "dim", "got -3"}},
      {"LayerNorm 0 features", [&] { nn::LayerNorm(0); }, {"LayerNorm", "got 0"}},
      {"Elman hidden 0", [&] { nn::Elman(2, 0, rng); }, {"hidden_size", "got 2 and 0"}},
      {"Lstm input -1", [&] { nn::Lstm(-1, 3, rng); }, {"input_size", "got -1 and 3"}},
      {"Gru hidden -4", [&] { nn::Gru(2, -4, rng); }, {"hidden_size", "got 2 and -4"}},
      {"Recurrent 0 layers", [&] { nn::Recurrent(nn::cell_factory<nn::Lstm>(), 2, 3, rng, {.num_layers = 0}); },
       {"Recurrent", "num_layers", "got 0"}},
      {"Recurrent hidden 0", [&] { nn::Recurrent(nn::cell_factory<nn::Gru>(), 2, 0, rng); },
       {"Recurrent", "hidden_size", "got 2 and 0"}},
      {"negative tensor dimension", [&] { Tensor::zeros({2, -1}); }, {"negative dimension -1"}},
      {"unroll over 0 steps", [&] { nn::unroll(cell, tape.constant(Tensor::zeros({1, 0, 2}))); },
       {"unroll", "empty", "(1, 0, 2)"}},
      {"sequence length 0", [&] { nn::unroll(cell, tape.constant(Tensor::zeros({1, 4, 2})), {}, {.lengths = zero_length}); },
       {"unroll", "lengths[0] = 0"}},
      {"truncated BPTT chunk 0", [&] { nn::truncated_bptt(tape, cell, Tensor::zeros({1, 4, 2}), 0, ignore); },
       {"truncated_bptt", "k", "got 4 and 0"}},
      {"batch size 0", [&] { data::make_batches(10, 0); }, {"make_batches", "batch size 0"}},
      {"negative example count", [&] { data::make_batches(-1, 4); }, {"make_batches", "n = -1"}},
      {"stream of 0 rows", [&] { data::stream_batches(ids, 0); }, {"stream_batches", "batch 0"}},
      {"window of 0 steps", [&] { data::stream_batches(ids, 2).windows(0); }, {"steps 0"}},
      {"empty sequence in a batch", [&] { data::pad_batch({{1, 2}, {}}); }, {"pad_batch", "sequence 1 is empty"}},
      {"step_decay every 0 steps", [&] { optim::step_decay(0.1, 0, 0.5); }, {"step_decay", "step_size = 0"}},
      {"cosine period -5", [&] { optim::cosine(0.1, -5); }, {"cosine", "period = -5"}},
      {"negative schedule step", [&] { optim::constant(0.1)(-1); }, {"constant", "negative step -1"}},
  });
}

TEST_CASE("bad input: NaN, infinite, negative and zero learning rates for every optimiser", "[bad-input]") {
  Rng rng(1);
  nn::Linear model(2, 2, rng);
  const auto params = model.named_parameters();
  using Make = std::function<std::unique_ptr<optim::Optimizer>(double lr)>;
  const std::vector<std::pair<std::string, Make>> optimisers = {
      {"SGD", [&](double lr) { return std::make_unique<optim::SGD>(params, optim::SgdOptions{.lr = lr}); }},
      {"Adam", [&](double lr) { return std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = lr}); }},
      {"AdamW", [&](double lr) { return std::make_unique<optim::AdamW>(params, optim::AdamWOptions{.lr = lr}); }},
      {"RMSprop", [&](double lr) { return std::make_unique<optim::RMSprop>(params, optim::RmspropOptions{.lr = lr}); }},
      {"Adagrad", [&](double lr) { return std::make_unique<optim::Adagrad>(params, optim::AdagradOptions{.lr = lr}); }},
  };
  std::vector<Case> cases;
  for (const auto& [name, make] : optimisers) {
    for (double lr : {kNan, kInf, -kInf, -1e-3})
      cases.push_back({name + " lr " + optim::num(lr), [make = make, lr] { make(lr); },
                       {name + ": invalid lr = " + optim::num(lr), "must be finite and >= 0"}});
    cases.push_back({name + " set_lr(nan)", [make = make] { make(0.1)->set_lr(kNan); }, {name, "invalid lr = nan"}});
    // Zero is a valid rate, as in PyTorch: schedules reach it (cosine with min_lr = 0) and a run may
    // freeze parameters that way; a step then changes nothing.
    CHECK_NOTHROW(make(0.0)->set_lr(0.0));
  }
  const std::vector<optim::ParamGroup> bad_group = {{{"bias"}, {{"lr", -1.0}}}};
  cases.push_back({"group lr -1", [&] { optim::SGD(params, {}, bad_group); }, {"SGD: group 1", "invalid lr = -1"}});
  cases.push_back({"constant(nan)", [] { optim::constant(kNan); }, {"constant", "invalid lr = nan"}});
  cases.push_back({"step_decay(-1)", [] { optim::step_decay(-1, 10, 0.5); }, {"step_decay", "invalid lr = -1"}});
  cases.push_back({"exponential(inf)", [] { optim::exponential(kInf, 0.9); }, {"exponential", "invalid lr = inf"}});
  cases.push_back({"cosine(nan)", [] { optim::cosine(kNan, 10); }, {"cosine", "invalid lr = nan"}});
  cases.push_back({"ReduceOnPlateau(-0.1)", [] { optim::ReduceOnPlateau(-0.1); }, {"ReduceOnPlateau", "invalid lr = -0.1"}});
  require_errors(cases);
}

// ---- program options and config files ---------------------------------------------------------------------

namespace {

// A program declared like experiments/programs/*.cpp: sizes are int64_t options checked with
// require_positive after parse, learning rates and other reals are doubles.
void run_toy_program(std::vector<std::string> args) {
  experiments::Program program("toy", "the bad-input battery's program");
  program.options().add_options()                                                //
      ("hidden", po::value<int64_t>()->default_value(8), "hidden units")         //
      ("batch", po::value<int64_t>()->default_value(4), "batch size")            //
      ("steps", po::value<int64_t>()->default_value(10), "training steps")       //
      ("layers", po::value<int64_t>()->default_value(1), "layers")               //
      ("lr", po::value<double>()->default_value(0.1), "learning rate")           //
      ("forget-bias", po::value<double>()->default_value(1.0), "forget-gate bias");
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

TEST_CASE("bad input: unknown optimiser options", "[bad-input]") {
  Rng rng(1);
  nn::Linear model(2, 2, rng);
  const auto params = model.named_parameters();
  auto sgd_group = [&](const std::string& key, double value) -> Action {
    return [&params, key, value] { optim::SGD(params, {}, {{{"weight"}, {{key, value}}}}); };
  };
  require_errors({
      {"misspelt option", sgd_group("momentun", 0.9), {"SGD: group 1", "unknown option 'momentun'"}},
      {"flag not 0 or 1", sgd_group("nesterov", 2), {"SGD: group 1", "nesterov = 2", "0 or 1"}},
      {"unknown parameter in a group", [&] { optim::Adam(params, {}, {{{"wieght"}, {}}}); },
       {"Adam", "unknown parameter 'wieght'"}},
  });
}
