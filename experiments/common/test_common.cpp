// The experiment machinery: options (defaults, --help, .ini + command-line precedence, one-line
// errors naming the option), CSV logs, run folders (config.ini, env.json, exact metrics.json),
// gnuplot plots, claims.json, the verdict rule and resumable units. The report: report/test_report.cpp.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "experiments/common/experiment.h"
#include "temp_dir.h"

using namespace seqgrad;
namespace fs = std::filesystem;
using seqgrad::testing::TempDir;
namespace po = boost::program_options;

namespace {

// Program::parse over a list of arguments (the program name is added).
bool parse(experiments::Program& p, std::vector<std::string> args) {
  args.insert(args.begin(), p.name());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return p.parse(int(argv.size()), argv.data());
}

experiments::Program make_program() {
  experiments::Program p("toy", "a toy experiment");
  p.option<int>("steps", 50, 7, "sequence length");
  p.option<double>("lr", 0.1, 0.01, "learning rate");
  p.option<std::string>("cell", "lstm", "cell");
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The message of the std::invalid_argument that parse throws.
std::string parse_error(std::vector<std::string> args) {
  experiments::Program p = make_program();
  try {
    parse(p, std::move(args));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}

bool has_gnuplot() { return ::access("/usr/bin/gnuplot", X_OK) == 0; }

}  // namespace

TEST_CASE("Program: defaults, --help, common options", "[experiments]") {
  experiments::Program p = make_program();
  REQUIRE(parse(p, {}));
  CHECK(p.get<int>("steps") == 50);
  CHECK(p.get<double>("lr") == 0.1);
  CHECK(p.seed() == 1);
  CHECK_FALSE(p.quick());
  CHECK(p.out() == fs::path("runs") / "toy");
  CHECK_THROWS_WITH(p.get<int>("nope"), Catch::Contains("--nope"));
  CHECK_THROWS_WITH(p.get<std::string>("steps"), Catch::Contains("--steps"));

  experiments::Program q = make_program();
  REQUIRE(parse(q, {"--seed", "7", "--quick", "--steps=9", "--out", "/tmp/x", "--threads", "1"}));
  CHECK(q.seed() == 7);
  CHECK(q.quick());
  CHECK(q.get<int>("steps") == 9);
  CHECK(q.out() == fs::path("/tmp/x/toy"));
  CHECK(q.threads() == 1);  // the global_control q holds

  // --help prints every option with its default and returns false.
  experiments::Program h = make_program();
  std::ostringstream captured;
  auto* old = std::cout.rdbuf(captured.rdbuf());
  bool ran = parse(h, {"--help"});
  std::cout.rdbuf(old);
  CHECK_FALSE(ran);
  const std::string help = captured.str();
  for (const char* s :
       {"--steps", "(default: 50; --quick: 7)", "--lr", "(default: 0.1; --quick: 0.01)", "--cell", "(default: lstm)",
        "--seed", "(default: 1)", "--threads", "(default: 0)", "--out DIR", "--quick", "--config"})
    CHECK_THAT(help, Catch::Contains(s));
}

TEST_CASE("Program: config file, command line wins, resolved config", "[experiments]") {
  TempDir tmp("expc-ini");
  const fs::path ini = tmp.path / "toy.ini";
  std::ofstream(ini) << "# a comment\nsteps = 20\nlr = 0.5\nseed = 3\nquick = true\n";
  experiments::Program p = make_program();
  REQUIRE(parse(p, {"--config", ini.string(), "--steps", "7"}));
  CHECK(p.get<int>("steps") == 7);    // command line wins
  CHECK(p.get<double>("lr") == 0.5);  // from the file
  CHECK(p.seed() == 3);
  CHECK(p.quick());
  const std::string cfg = p.resolved_config();
  CHECK_THAT(cfg, Catch::Contains("steps = 7\n") && Catch::Contains("lr = 0.5\n") && Catch::Contains("cell = lstm\n") &&
                      Catch::Contains("seed = 3\n") && Catch::Contains("quick = true\n"));

  // The resolved config read back as --config gives the same configuration.
  std::ofstream(tmp.path / "resolved.ini") << cfg;
  experiments::Program r = make_program();
  REQUIRE(parse(r, {"--config", (tmp.path / "resolved.ini").string()}));
  CHECK(r.resolved_config() == cfg);

  // A missing config file names the path; a bad value in the file names option and file.
  CHECK_THAT(parse_error({"--config", (tmp.path / "missing.ini").string()}), Catch::Contains("missing.ini"));
  std::ofstream(tmp.path / "bad.ini") << "steps = many\n";
  std::string e = parse_error({"--config", (tmp.path / "bad.ini").string()});
  CHECK_THAT(e, Catch::Contains("steps") && Catch::Contains("many") && Catch::Contains("bad.ini"));
  std::ofstream(tmp.path / "unknown.ini") << "stepz = 3\n";
  CHECK_THAT(parse_error({"--config", (tmp.path / "unknown.ini").string()}), Catch::Contains("stepz"));
}

TEST_CASE("Program: bad values and unknown options give one line naming the option", "[experiments]") {
  auto one_line = [](const std::string& s) { return s.find('\n') == std::string::npos; };
  std::string e = parse_error({"--steps", "x"});
  CHECK_THAT(e, Catch::Contains("--steps") && Catch::Contains("'x'"));
  CHECK(one_line(e));
  e = parse_error({"--lr", "fast"});
  CHECK_THAT(e, Catch::Contains("--lr") && Catch::Contains("fast"));
  e = parse_error({"--bogus", "1"});
  CHECK_THAT(e, Catch::Contains("--bogus"));
  CHECK(one_line(e));
  CHECK_THAT(parse_error({"--seed", "-1"}), Catch::Contains("--seed") && Catch::Contains("-1"));
  CHECK_THAT(parse_error({"--threads", "-2"}), Catch::Contains("--threads"));
  CHECK_THAT(parse_error({"--steps"}), Catch::Contains("--steps"));  // value missing

  // run_main turns it into "error: ..." and exit code 2.
  CHECK(experiments::run_main([] { return 0; }) == 0);
  CHECK(experiments::run_main([]() -> int { throw std::invalid_argument("--steps: bad"); }) == 2);
}

TEST_CASE("CsvLog: exact numbers, quoting, row length checked", "[experiments]") {
  TempDir tmp("expc-csv");
  experiments::CsvLog log(tmp.path / "m.csv", {"step", "loss", "note"});
  log.row({int64_t(1), 0.1, std::string("a,b")});
  log.row({2, 1.0 / 3.0, "plain"});
  CHECK_THROWS_WITH(log.row({3, 0.5}),
                    Catch::Contains("2 values") && Catch::Contains("expected 3") && Catch::Contains("m.csv"));
  CHECK(slurp(tmp.path / "m.csv") == "step,loss,note\n1,0.1,\"a,b\"\n2,0.3333333333333333,plain\n");
  CHECK(std::strtod(experiments::format_number(1.0 / 3.0).c_str(), nullptr) == 1.0 / 3.0);
  CHECK(experiments::format_number(std::nan("")) == "nan");
  CHECK(experiments::json_quote("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST_CASE("Run: folder with config.ini, env.json and exact metrics.json", "[experiments]") {
  TempDir tmp("expc-run");
  experiments::Program p = make_program();
  REQUIRE(parse(p, {"--out", tmp.path.string(), "--steps", "5"}));
  experiments::Run run(p, "first");
  CHECK(run.dir() == tmp.path / "toy" / "first");
  CHECK_THAT(slurp(run.dir() / "config.ini"), Catch::Contains("steps = 5"));

  experiments::Json env = experiments::read_json_file(run.dir() / "env.json");
  for (const char* key : {"git_commit", "compiler", "threads", "tbb_version", "boost_version", "cpu_model"}) {
    INFO(key);
    REQUIRE(env.find(key) != nullptr);
  }
  CHECK(env.find("threads")->number() >= 1);
  CHECK_FALSE(env.find("git_commit")->text.empty());

  auto& csv = run.csv("train", {"step", "loss"});
  csv.row({1, 0.5});
  CHECK(&run.csv("train", {"step", "loss"}) == &csv);
  CHECK_THROWS_WITH(run.csv("train", {"step"}), Catch::Contains("train"));
  CHECK_THROWS_WITH(run.plot({.name = "p", .csv = "nope", .x = "step", .y = {"loss"}}), Catch::Contains("nope"));
  CHECK_THROWS_WITH(run.plot({.name = "p", .csv = "train", .x = "step", .y = {"acc"}}), Catch::Contains("acc"));

  const double third = 1.0 / 3.0, tiny = 1e-300 * 0.123456789;
  run.finish({{"loss", third}, {"tiny", tiny}, {"steps", int64_t(5)}, {"cell", std::string("lstm \"x\"")}});
  experiments::Json m = experiments::read_json_file(run.dir() / "metrics.json");
  CHECK(m.find("loss")->number() == third);  // bit-exact
  CHECK(m.find("tiny")->number() == tiny);
  CHECK(m.find("steps")->text == "5");
  CHECK(m.find("cell")->text == "lstm \"x\"");
  CHECK(experiments::read_json_file(run.dir() / "env.json").find("elapsed_seconds") != nullptr);

  // A rerun of the same name replaces the old CSVs.
  experiments::Run again(p, "first");
  CHECK_FALSE(fs::exists(again.dir() / "metrics" / "train.csv"));
  CHECK_FALSE(fs::exists(again.dir() / "metrics.json"));
}

TEST_CASE("Run::plot renders PNG and SVG with gnuplot, missing gnuplot says how to install it", "[experiments]") {
  TempDir tmp("expc-plot");
  experiments::Program p = make_program();
  REQUIRE(parse(p, {"--out", tmp.path.string()}));
  experiments::Run run(p, "plots");
  auto& csv = run.csv("decay", {"k", "w", "measured", "closed_form"});
  for (double w : {0.5, 0.9})  // interleaved groups
    for (int k = 0; k <= 20; ++k) csv.row({k, w, std::pow(w, 20 - k) * 1.01, std::pow(w, 20 - k)});
  experiments::PlotSpec spec{.name = "decay",
                             .csv = "decay",
                             .x = "k",
                             .y = {"measured", "closed_form"},
                             .group_by = "w",
                             .log_y = true,
                             .title = "|dh_T/dh_k| per step",
                             .y_label = "gradient norm"};
  {
    const char* old = std::getenv("SEQGRAD_GNUPLOT");
    std::string saved = old ? old : "";
    ::setenv("SEQGRAD_GNUPLOT", (tmp.path / "no-gnuplot").c_str(), 1);
    CHECK_THROWS_WITH(run.plot(spec), Catch::Contains("apt-get install gnuplot-nox"));
    if (old) ::setenv("SEQGRAD_GNUPLOT", saved.c_str(), 1);
    else ::unsetenv("SEQGRAD_GNUPLOT");
  }
  if (!has_gnuplot()) {
    WARN("/usr/bin/gnuplot is absent: plot rendering not checked");
    return;
  }
  run.plot(spec);
  run.plot({.name = "plain", .csv = "decay", .x = "k", .y = {"measured"}});
  for (const char* f : {"decay.png", "decay.svg", "decay.gp", "plain.png"}) {
    INFO(f);
    REQUIRE(fs::exists(run.dir() / "plots" / f));
    CHECK(fs::file_size(run.dir() / "plots" / f) > 100);
  }
  CHECK(slurp(run.dir() / "plots" / "decay.png").substr(1, 3) == "PNG");
  CHECK_THAT(slurp(run.dir() / "plots" / "decay.gp"),
             Catch::Contains("set logscale y") && Catch::Contains("../metrics/decay.csv"));
}

TEST_CASE("option helpers: lists, positivity and quick values name the option", "[experiments]") {
  CHECK(experiments::parse_number_list("ws", "0.5, 1,2e-1") == std::vector<double>{0.5, 1, 0.2});
  CHECK_THROWS_WITH(experiments::parse_number_list("ws", "0.5,x"), Catch::Contains("--ws") && Catch::Contains("'x'"));
  CHECK_THROWS_WITH(experiments::parse_number_list("ws", "nan"), Catch::Contains("--ws"));
  CHECK(experiments::parse_name_list("cells", "lstm,gru", {"elman", "lstm", "gru"}) ==
        std::vector<std::string>{"lstm", "gru"});
  CHECK_THROWS_WITH(experiments::parse_name_list("cells", "lstm,tcn", {"elman", "lstm", "gru"}),
                    Catch::Contains("--cells") && Catch::Contains("'tcn'") && Catch::Contains("elman, lstm, gru"));
  CHECK_THROWS_WITH(experiments::require_positive("lr", -1), Catch::Contains("--lr") && Catch::Contains("-1"));
  CHECK_THROWS_WITH(experiments::require_positive("lr", std::nan("")), Catch::Contains("--lr"));
}

// Issue 12: --quick, --quick=true and `quick = true` in a config file all give the quick values of
// the options the user did not set, and config.ini records what ran, so feeding it back repeats it.
TEST_CASE("Program: every route to quick mode resolves through the option table", "[experiments]") {
  TempDir tmp("expc-quick");
  const fs::path ini = tmp.path / "quick.ini";
  std::ofstream(ini) << "quick = true\nlr = 0.5\n";
  const std::vector<std::vector<std::string>> routes = {
      {"--quick", "--lr", "0.5"}, {"--quick=true", "--lr=0.5"}, {"--config", ini.string()}, {"--lr", "0.5", "--quick"}};
  for (const auto& args : routes) {
    INFO(args.front());
    experiments::Program p = make_program();
    REQUIRE(parse(p, args));
    CHECK(p.quick());
    CHECK(p.get<int>("steps") == 7);    // not set: the quick value
    CHECK(p.get<double>("lr") == 0.5);  // set: wins over quick
    CHECK(p.get<std::string>("cell") == "lstm");
    CHECK(p.given("lr"));
    CHECK_FALSE(p.given("steps"));
    // config.ini fed back gives the same values, quick or not.
    const fs::path again = tmp.path / "resolved.ini";
    std::ofstream(again) << p.resolved_config();
    experiments::Program q = make_program();
    REQUIRE(parse(q, {"--config", again.string()}));
    CHECK(q.resolved_config() == p.resolved_config());
  }
  experiments::Program full = make_program();
  REQUIRE(parse(full, {"--quick=false"}));
  CHECK(full.get<int>("steps") == 50);
  CHECK_THAT(full.resolved_config(), Catch::Contains("steps = 50") && Catch::Contains("quick = false"));
}

TEST_CASE("Program: option names must be written in full (no prefix guessing)", "[experiments]") {
  CHECK_THAT(parse_error({"--ste", "8"}), Catch::Contains("--ste"));
  CHECK_THAT(parse_error({"--cel", "gru"}), Catch::Contains("--cel"));
  TempDir tmp("expc-prefix");
  const fs::path ini = tmp.path / "prefix.ini";
  std::ofstream(ini) << "ste = 8\n";
  CHECK_THAT(parse_error({"--config", ini.string()}), Catch::Contains("ste") && Catch::Contains("prefix.ini"));
}

TEST_CASE("Run::save_models: every model under param/<key>/ with the resolved config", "[experiments]") {
  TempDir tmp("expc-models");
  experiments::Program p = make_program();
  REQUIRE(parse(p, {"--out", tmp.path.string(), "--steps", "9"}));
  experiments::Run run(p, "trained");
  Tensor w = Tensor::from({2, 2}, {1, 2, 3, 4}), b = Tensor::from({2}, {0.5, -0.5}, DType::f64);
  run.save_models({{"lstm/seed1", {{"l0.weight_ih", w}, {"l0.bias", b}}}, {"gru/seed1", {{"l0.bias", b}}}});
  const nn::Checkpoint ckpt = nn::load_checkpoint((run.dir() / "checkpoint.sgck").string());
  REQUIRE(ckpt.tensors.size() == 3);
  CHECK(ckpt.tensors.at("param/lstm/seed1/l0.weight_ih").at({1, 0}) == 3);
  CHECK(ckpt.tensors.at("param/gru/seed1/l0.bias").dtype() == DType::f64);
  CHECK_THAT(ckpt.texts.at("config"), Catch::Contains("steps = 9"));
}

// Regression (fuzz_config, timeout-0148c32d…): Boost 1.74's error message formatting looped forever
// on an unknown key holding its placeholder "%canonical_option%". The input is the fuzzer's.
TEST_CASE("Program: option names or values holding Boost placeholders fail fast with a message", "[experiments]") {
  TempDir tmp("expc-percent");
  const fs::path ini = tmp.path / "fuzzed.ini";
  std::ofstream(ini, std::ios::binary) << std::string("st%canonical_option%comme=&3\x0equick = trun\n");
  CHECK_THAT(parse_error({"--config", ini.string()}),
             Catch::Contains("st%canonical_option%comme") && Catch::Contains("fuzzed.ini"));
  CHECK_THAT(parse_error({"--st%canonical_option%x", "1"}), Catch::Contains("st%canonical_option%x"));
  CHECK_THAT(parse_error({"--steps", "4%value%"}), Catch::Contains("4%value%"));
  experiments::Program p = make_program();
  REQUIRE(parse(p, {"--cell", "50%"}));  // a '%' in a valid value is fine
  CHECK(p.get<std::string>("cell") == "50%");
}

// Issue 12: one stated verdict rule. Fewer than 3 seeds is inconclusive (one seed used to give
// "holds" from a std of 0); with 3 or more, Welch's t-test at 5% decides.
TEST_CASE("compare: the verdict rule needs 3 seeds and a difference beyond Welch's threshold", "[experiments]") {
  using experiments::Outcome;
  const std::vector<double> one = {0.9}, other = {0.5};
  CHECK(experiments::compare(one, other, true).outcome == Outcome::inconclusive);
  const std::vector<double> a = {0.80, 0.81, 0.79}, b = {0.70, 0.71, 0.69}, c = {0.78, 0.83, 0.76};
  CHECK(experiments::compare(a, b, true).outcome == Outcome::a_better);
  CHECK(experiments::compare(a, b, false).outcome == Outcome::b_better);  // lower is better: b wins
  CHECK(experiments::compare(a, c, true).outcome == Outcome::no_difference);
  // Welch: s = 0.01 both sides, n = 3: se = 0.008165, nu = 4, t = 2.776 -> threshold 0.02267.
  const experiments::Comparison ab = experiments::compare(a, b, true);
  CHECK(ab.threshold == Approx(2.776 * std::sqrt(2 * 0.0001 / 3)).epsilon(1e-9));
  CHECK_THAT(ab.text(), Catch::Contains("beyond the threshold"));
  CHECK(experiments::t_quantile_975(1) == Approx(12.706));
  CHECK(experiments::t_quantile_975(1e9) == Approx(1.95996).epsilon(1e-6));
  CHECK_THROWS_WITH(experiments::t_quantile_975(0.5), Catch::Contains("degrees of freedom"));
}

TEST_CASE("UnitStore: finished units come back only with --resume and the same config", "[experiments]") {
  TempDir tmp("expc-units");
  auto unit = [] {
    nn::Checkpoint u;
    u.tensors["param/w"] = Tensor::from({2}, {1, 2});
    u.texts["metric"] = "0.5";
    return u;
  };
  {
    experiments::Program p = make_program();
    REQUIRE(parse(p, {"--out", tmp.path.string()}));
    experiments::Run run(p, "r");
    experiments::UnitStore store(run);
    store.save("lstm_seed1", unit());
    CHECK_FALSE(store.find("lstm_seed1"));  // not resuming: nothing is read back
  }
  {
    experiments::Program p = make_program();
    REQUIRE(parse(p, {"--out", tmp.path.string(), "--resume", "--threads", "1"}));  // threads do not matter
    experiments::Run run(p, "r");
    auto found = experiments::UnitStore(run).find("lstm_seed1");
    REQUIRE(found);
    CHECK(found->texts.at("metric") == "0.5");
  }
  {
    experiments::Program p = make_program();
    REQUIRE(parse(p, {"--out", tmp.path.string(), "--resume", "--steps", "9"}));
    experiments::Run run(p, "r");
    CHECK_THROWS_WITH(experiments::UnitStore(run).find("lstm_seed1"),
                      Catch::Contains("lstm_seed1.sgck") && Catch::Contains("another configuration"));
  }
  {
    experiments::Program p = make_program();
    REQUIRE(parse(p, {"--out", tmp.path.string()}));  // a fresh run empties units/
    experiments::Run run(p, "r");
    CHECK_FALSE(fs::exists(run.dir() / "units" / "lstm_seed1.sgck"));
  }
}
