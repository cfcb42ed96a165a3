// Command-line and config-file options of an experiment program, declared ONCE in a table: each
// option has its full-run value and, where a smoke run differs, its --quick value. `--quick`,
// `--quick=true` and `quick = true` in a --config file all switch every option the user did not set
// to its quick value; an explicit value (command line or config file) always wins; and
// resolved_config() — written to every run's config.ini — holds the values that actually ran, so
// passing it back with --config repeats the run exactly.
//
//   experiments::Program program("gradient_study", "Vanishing and exploding gradients (guide §4–5)");
//   program.option<int64_t>("steps", 50, 20, "sequence length T");   // full 50, --quick 20
//   program.option<double>("lr", 1e-3, "Adam learning rate");          // the same in both modes
//   program.flag("verify", "check the outputs afterwards");
//   if (!program.parse(argc, argv)) return 0;                         // --help printed
//   const int64_t steps = program.get<int64_t>("steps");
//
// Common options of every program: --seed (1), --threads (0 = all cores), --out (runs), --quick,
// --config FILE (an .ini whose keys are option names; the command line wins). Option names must be
// written in full: Boost's prefix guessing is off (`--hid 8` is an error, not --hidden). Bad values
// and unknown options give ONE line naming the option (Boost's wording, e.g. "the argument ('x') for
// option '--steps' is invalid"; a negative value for an unsigned option gives "--seed: invalid value
// '-1': must not be negative", NaN or infinity for a floating-point one "--lr: invalid value 'nan':
// must be a finite number"), with " (in config file <path>)" for errors in a config file, through an
// exception the caller's main reports (see run_main: "error: ..." and exit code 2).
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace seqgrad::experiments {

namespace po = boost::program_options;

class Program {
 public:
  Program(std::string name, std::string description);

  // An option whose value differs between the full run and --quick. T: int, int64_t, uint64_t,
  // double, std::string or bool.
  template <typename T>
  void option(const std::string& name, T full, T quick, const std::string& help) {
    declare(name, po::value<T>(), help, describe(full, quick), [name, full, quick](po::variables_map& vm, bool q) {
      vm.insert({name, po::variable_value(q ? quick : full, false)});
    });
  }
  // An option with the same value in both modes.
  template <typename T>
  void option(const std::string& name, T value, const std::string& help) {
    option<T>(name, value, value, help);
  }
  // A boolean switch, false unless given: --name, --name=true or `name = true` in a config file.
  void flag(const std::string& name, const std::string& help);

  bool parse(int argc, char** argv);  // false when --help was printed; throws std::invalid_argument

  const std::string& name() const;
  const po::variables_map& vm() const;
  // The option's value; throws naming the option when it was never declared or T is not its type.
  template <typename T>
  T get(const std::string& option) const {
    const po::variable_value& v = vm()[option];
    if (v.empty()) throw std::logic_error("--" + option + ": not a declared option of " + name());
    try {
      return v.as<T>();
    } catch (const boost::bad_any_cast&) {
      throw std::logic_error("--" + option + ": read with a type other than the one it was declared with");
    }
  }
  // Whether the user set the option (command line or config file) rather than the table.
  bool given(const std::string& option) const;
  uint64_t seed() const;
  int threads() const;  // the TBB thread limit in force (set by parse via tbb::global_control)
  bool quick() const;
  std::filesystem::path out() const;                     // <--out>/<name>
  std::string resolved_config() const;                   // every option with the value that ran, as .ini text
  const std::vector<std::string>& command_line() const;  // argv as given to parse()

 private:
  using Fill = std::function<void(po::variables_map&, bool quick)>;
  void declare(const std::string& name, po::value_semantic* semantic, const std::string& help,
               const std::string& defaults, Fill fill);
  template <typename T>
  static std::string describe(const T& full, const T& quick);

  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// "(default: 50)" or "(default: 50; --quick: 20)", the values as resolved_config() writes them.
std::string option_value_text(const std::string& v);
std::string option_value_text(bool v);
std::string option_value_text(double v);
std::string option_value_text(int64_t v);
std::string option_value_text(int v);
std::string option_value_text(uint64_t v);
template <typename T>
std::string Program::describe(const T& full, const T& quick) {
  const std::string f = option_value_text(full), q = option_value_text(quick);
  return "(default: " + (f.empty() ? std::string("\"\"") : f) + (f == q ? "" : "; --quick: " + q) + ")";
}

// The message of a Boost.Program_options error, safe for any input: Boost 1.74's po::error::what()
// loops forever when an option name or value holds one of its own placeholders ("%value%",
// "%canonical_option%", ...), substituting the token into itself (found by fuzzing the config
// parser). When a token holds a '%', the message names that token instead of asking Boost.
std::string option_error(const po::error& e, const std::vector<std::string>& tokens);

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

// Runs body(), turning exceptions into a one-line "error: ..." on stderr and exit code 2.
int run_main(const std::function<int()>& body);

}  // namespace seqgrad::experiments
