// What a study program is made of, shared by gradient_study and long_range: its option table, its
// run (claims + the run folders written) and --eval-only, put together by ONE main (study_main), and
// the helpers around them (seeds and cells from the options, a finished run's options read back,
// the parser run on strings for tests). Header-only.
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "experiments/common/cells.h"
#include "experiments/common/claims.h"
#include "experiments/common/options.h"
#include "experiments/common/run_folder.h"
#include "experiments/common/sweep.h"

namespace seqgrad::experiments {

// For tests: on_train(unit) is called for every unit of work that is trained, not read back from
// <run>/units/ with --resume (one call at a time, possibly from a worker thread).
struct Hooks {
  std::function<void(const std::string& unit)> on_train = {};
};

// What a run wrote: its claims, and (run folder, plot names) for --verify.
struct Written {
  std::vector<Claim> claims;
  std::vector<std::pair<std::string, std::vector<std::string>>> runs;
};

// A study program: its name and description, and the three functions main puts together.
struct Study {
  std::string name, description;
  std::function<void(Program&)> declare_options;             // the option table
  std::function<Written(const Program&, const Hooks&)> run;  // every part / task
  std::function<int(const Program&)> eval_only;              // --eval-only: models evaluated
};

// Parses the options, then runs --eval-only or the study (printing its claims, and with --verify
// checking what it wrote); errors as run_main reports them. Under mpirun or srun the study's units
// are divided across the ranks (sweep.h); --eval-only and --verify run on rank 0 alone.
inline int study_main(const Study& study, int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // result lines appear as they come, also in logs
  Ranks ranks(argc, argv);
  return run_main([&]() -> int {
    Program program(study.name, study.description);
    study.declare_options(program);
    if (!program.parse(argc, argv)) return 0;
    check_same_config(program);
    if (program.get<bool>("eval-only")) return !is_root() || study.eval_only(program) > 0 ? 0 : 2;
    const Written written = study.run(program, {});
    if (!is_root()) return 0;
    for (const Claim& c : written.claims)
      std::printf("claim: %s\n  expected: %s\n  measured: %s\n  verdict:  %s\n", c.claim.c_str(), c.expected.c_str(),
                  c.measured.c_str(), c.verdict.c_str());
    if (program.get<bool>("verify")) return verify_runs(program.out(), written.runs) > 0 ? 0 : 2;
    return 0;
  });
}

// program.parse() on `args` (args[0] is the program name); false when --help was printed.
inline bool parse_args(Program& program, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return program.parse(int(argv.size()), argv.data());
}

// For tests: the study run in-process on `args` (args[0] the program name) as study_main would, without
// printing. Returns the units it trained; with --eval-only, none, and the models it evaluated go to
// *evaluated. Errors are thrown, not reported.
inline std::vector<std::string> run_in_process(const Study& study, const std::vector<std::string>& args,
                                               int* evaluated = nullptr) {
  Program program(study.name, study.description);
  study.declare_options(program);
  if (!parse_args(program, args)) throw std::invalid_argument("run_in_process: --help given");
  std::vector<std::string> trained;
  if (program.get<bool>("eval-only")) {
    const int n = study.eval_only(program);
    if (evaluated) *evaluated = n;
  } else {
    study.run(program, {.on_train = [&](const std::string& unit) { trained.push_back(unit); }});
  }
  return trained;
}

// The options the run in `run_dir` ran with: its config.ini parsed by the study's own table, so
// every value is the one that ran.
inline Program saved_program(const Study& study, const std::filesystem::path& run_dir) {
  Program saved(study.name, "the options of " + run_dir.string());
  study.declare_options(saved);
  parse_args(saved, {study.name, "--config", (run_dir / "config.ini").string()});
  return saved;
}

// --seeds of them, from --seed on: seed, seed + 1, ...
inline std::vector<uint64_t> seed_list(const Program& program) {
  const int64_t n = program.get<int64_t>("seeds");
  require_positive("seeds", double(n));
  std::vector<uint64_t> seeds;
  for (uint64_t i = 0; i < uint64_t(n); ++i) seeds.push_back(program.seed() + i);
  return seeds;
}

// --cells: rnn (or elman), lstm, gru, lstm1997.
inline std::vector<CellKind> cell_list(const Program& program) {
  std::vector<CellKind> cells;
  for (const std::string& name :
       parse_name_list("cells", program.get<std::string>("cells"), {"elman", "rnn", "lstm", "gru", "lstm1997"}))
    cells.push_back(parse_cell(name));
  return cells;
}

}  // namespace seqgrad::experiments
