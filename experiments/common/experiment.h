// The machinery every experiment program shares: options (command line + experiments/configs/*.ini
// through Boost.Program_options), a run folder (resolved config, environment, CSV and JSON
// metrics, checkpoint, gnuplot plots), and a progress line. Same seed + same config gives
// bitwise-identical metrics at any thread count: everything random comes from Rngs seeded here.
//
//   int main(int argc, char** argv) {
//     experiments::Program program("gradient_study", "Vanishing and exploding gradients (guide §4–5)");
//     program.options().add_options()("steps", po::value<int>()->default_value(50), "sequence length T");
//     if (!program.parse(argc, argv)) return 0;             // --help printed
//     experiments::Run run(program, "scalar");                       // <out>/gradient_study/scalar/
//     auto& csv = run.csv("gradients", {"k", "w", "measured", "closed_form"});
//     csv.row({k, w, g, std::pow(w, T - k)});
//     run.plot({.name = "gradients", .csv = "gradients", .x = "k", .y = {"measured"}, .group_by = "w",
//               .log_y = true, .title = "|dh_T/dh_k| per step"});
//     run.finish({{"dh50_w0.9", g09}});                      // metrics.json
//   }
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "autograd/rng.h"
#include "autograd/tensor.h"
#include "nn/checkpoint.h"
#include "nn/json.h"

namespace seqgrad::experiments {

namespace po = boost::program_options;

// Command-line and config-file options. Common options: --seed (1), --threads (0 = all cores),
// --out (runs), --quick, --config FILE (an .ini whose keys are option names; the command line wins).
// Bad values and unknown options give ONE line naming the option (Boost's wording, e.g. "the
// argument ('x') for option '--steps' is invalid"; a negative value for an unsigned option, which
// Boost would silently wrap, gives "--seed: invalid value '-1': must not be negative", and NaN or
// infinity for a floating-point option "--lr: invalid value 'nan': must be a finite number") and exit
// code 2 via an exception the caller's main reports (see run_main). Errors in a config file add
// " (in config file <path>)"; a missing config file names the path.
class Program {
 public:
  Program(std::string name, std::string description);
  po::options_description& options();  // add experiment-specific options before parse()
  bool parse(int argc, char** argv);   // false when --help was printed; throws std::invalid_argument

  const std::string& name() const;
  const po::variables_map& vm() const;
  // The option's value; throws naming the option when it has no value or T is not its type.
  template <typename T>
  T get(const std::string& option) const {
    const po::variable_value& v = vm()[option];
    if (v.empty()) throw std::invalid_argument("--" + option + ": no value (not given and no default)");
    try {
      return v.as<T>();
    } catch (const boost::bad_any_cast&) {
      throw std::logic_error("--" + option + ": read with a type other than the one it was declared with");
    }
  }
  uint64_t seed() const;
  int threads() const;  // the TBB thread limit in force (set by parse via tbb::global_control)
  bool quick() const;
  std::filesystem::path out() const;  // <--out>/<name>
  std::string resolved_config() const;  // every option with its final value, as .ini text
  const std::vector<std::string>& command_line() const;  // argv as given to parse()

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The message of a Boost.Program_options error, safe for any input: Boost 1.74's po::error::what()
// loops forever when an option name or value holds one of its own placeholders ("%value%",
// "%canonical_option%", ...), substituting the token into itself (found by fuzzing the config
// parser). When a token holds a '%', the message names that token instead of asking Boost.
std::string option_error(const po::error& e, const std::vector<std::string>& tokens);

// A value in metrics: number or text.
using Value = std::variant<double, int64_t, std::string>;

// Shortest text that reads back to the same double (std::to_chars), so CSV and JSON metrics are
// bit-comparable; "nan", "inf", "-inf" for non-finite values.
std::string format_number(double v);
// `s` as a JSON string literal, quotes included (", \ and control characters escaped).
using nn::json_quote;
// A Value as JSON: numbers as format_number (non-finite ones as the strings "nan", "inf", "-inf",
// which JSON cannot represent as numbers), text quoted.
std::string json_value(const Value& v);

// One CSV file under <run>/metrics/, rows appended and flushed as they come.
class CsvLog {
 public:
  CsvLog(const std::filesystem::path& path, std::vector<std::string> columns);
  void row(const std::vector<Value>& values);  // throws when the count differs from the columns
  const std::filesystem::path& path() const;
  const std::vector<std::string>& columns() const;

 private:
  std::filesystem::path path_;
  std::vector<std::string> columns_;
  std::ofstream out_;
};

// A gnuplot line plot of one CSV (PNG, and SVG next to it), one line per y column, or one line per
// distinct value of `group_by` when given (per y column and value when there are several y).
// <run>/plots/<name>.gp is the script that drew them (edit it and run `gnuplot <name>.gp` inside
// plots/). The environment variable SEQGRAD_GNUPLOT overrides the gnuplot executable.
struct PlotSpec {
  std::string name;   // <run>/plots/<name>.png
  std::string csv;    // a CsvLog name of this run
  std::string x;
  std::vector<std::string> y;
  std::string group_by = "";
  bool log_y = false;
  std::string title = "", x_label = "", y_label = "";
};

// A run folder <program.out()>/<run_name>/: config.ini and env.json on creation; metrics/*.csv,
// metrics.json, checkpoint.sgck and plots/*.png as the run goes.
class Run {
 public:
  Run(const Program& program, const std::string& run_name);
  const std::filesystem::path& dir() const;
  CsvLog& csv(const std::string& name, std::vector<std::string> columns);
  void plot(const PlotSpec& spec);  // renders now; if gnuplot is missing, throws saying how to install it
  void save_checkpoint(const nn::Checkpoint& ckpt);  // <run>/checkpoint.sgck, atomically
  // The run's trained models in one checkpoint: model `key`'s parameter `name` as
  // "param/<key>/<name>" (e.g. "param/lstm/seed1/l0.weight_ih"), and the resolved config as the text
  // "config". Load one back with nn::get_module(ckpt, module, "param/<key>/").
  using NamedTensors = std::map<std::string, Tensor>;
  void save_models(const std::map<std::string, NamedTensors>& models);
  void finish(const std::map<std::string, Value>& final_metrics);  // metrics.json

 private:
  void write_env(double elapsed_seconds) const;  // env.json; elapsed < 0 while the run is going

  const Program& program_;
  std::filesystem::path dir_;
  std::map<std::string, std::unique_ptr<CsvLog>> csvs_;
  std::chrono::steady_clock::time_point start_;
};

// "epoch 3/10  loss 0.4312  1,234 items/s  ETA 0:42" on one line of stderr, rewritten at most a
// few times per second (plain lines, about every 10%, when stderr is not a terminal).
// update(done, loss, items): `done` of `total` units finished so far, the latest loss, and the
// number of items (sequences, tokens…) processed SINCE THE PREVIOUS update (summed for items/s).
class Progress {
 public:
  Progress(std::string what, int64_t total);
  void update(int64_t done, double loss, int64_t items);
  void finish();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// ---- option helpers for experiment programs -------------------------------------------------------

// The option's value, or `quick_value` when --quick is on and the option was neither given on the
// command line nor in a config file (so --quick shrinks a run but an explicit value still wins).
template <typename T>
T quick_or(const Program& p, const std::string& option, T quick_value) {
  const po::variable_value& v = p.vm()[option];
  return (p.quick() && v.defaulted()) ? quick_value : p.get<T>(option);
}
// v with `digits` significant digits (%g style: 0.00521, 117.4, 1.15e+19), for claims and logs.
std::string fmt(double v, int digits = 4);
// "0.5,0.9,1" -> {0.5, 0.9, 1}; throws "--<option>: invalid number 'x' in '...'" (finite only).
std::vector<double> parse_number_list(const std::string& option, const std::string& text);
// "elman,lstm" -> {"elman", "lstm"}; each must be in `allowed` (when not empty), else throws naming
// the option, the bad item and the allowed ones.
std::vector<std::string> parse_name_list(const std::string& option, const std::string& text,
                                         const std::vector<std::string>& allowed = {});
// Throws "--<option>: must be > 0, got <v>" unless v > 0 (NaN fails), and "must be finite" for inf.
void require_positive(const std::string& option, double v);
// Throws "--<option>: must be >= 0, got <v>" unless v >= 0 (NaN fails), and "must be finite" for inf.
void require_non_negative(const std::string& option, double v);

// --verify for programs: for each (run folder below `out`, plot names), checks that config.ini
// exists, metrics.json and claims.json parse, every metrics/*.csv has a header and >= 1 row of the
// header's width, and each named plot is a PNG. Throws naming the first problem; returns the
// number of run folders checked (and prints one line saying so).
int verify_runs(const std::filesystem::path& out,
                const std::vector<std::pair<std::string, std::vector<std::string>>>& runs);

// Runs body(), turning exceptions into a one-line "error: ..." on stderr and exit code 2.
int run_main(const std::function<int()>& body);

}  // namespace seqgrad::experiments
