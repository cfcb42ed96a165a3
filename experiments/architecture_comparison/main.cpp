// architecture_comparison — Experiment 2 (issue #5): vanilla RNN, LSTM, GRU and BiLSTM on four
// tasks, the same embedding and hidden sizes for every cell, several seeds, mean ± std, and each
// task's baselines. Run folders under <out>/architecture_comparison/ (a user's --data-* file runs
// in "<task>-<file stem>", so another data set never replaces an earlier run):
//   sentiment/  UCI sentiment sentences (many-to-one): test accuracy; baseline: majority class
//   tagging/    Brown corpus, 12 universal tags (many-to-many): test token accuracy, macro-F1;
//               baselines: majority tag, most frequent tag per word
//   lm/         Moby Dick characters: validation bits per character (rnn, lstm, gru); baselines:
//               unigram and bigram
//   forecast/   monthly sunspots: test RMSE (rnn, lstm, gru); baselines: persistence, seasonal naive
//   overall/    the tasks side by side, the cells' forms, the verdict rule and the claims
// Each task folder: metrics/epochs.csv, curves.csv, val_curves.csv (with the baselines), final.csv,
// summary.csv (cells and baselines), timing.csv (measured seconds: NOT in metrics.json),
// plots/val_curve.png and train_loss.png, checkpoint.sgck (the selected models), units/ (for
// --resume), metrics.json (bitwise deterministic for a seed and config).
//   architecture_comparison --quick                 # <= 4 min on 2 idle cores, real data
//   architecture_comparison --config experiments/architecture_comparison/full.ini   # full, ~1 h
//   architecture_comparison --data-series co2.csv   # only the forecast task, in forecast-co2/
//   architecture_comparison --synthetic-data DIR    # writes tiny files into DIR and runs on them
#include <cstdio>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "experiments/architecture_comparison/study.h"
#include "experiments/architecture_comparison/task_specs.h"
#include "experiments/common/experiment.h"

using namespace seqgrad;
namespace ac = seqgrad::architecture_comparison;

namespace {

// The model and training settings, checked.
ac::Config read_config(const experiments::Program& program) {
  ac::Config cfg{.embed = program.get<int64_t>("embed"),
                 .hidden = program.get<int64_t>("hidden"),
                 .batch = program.get<int64_t>("batch"),
                 .epochs = program.get<int64_t>("epochs"),
                 .lr = program.get<double>("lr"),
                 .clip = program.get<double>("clip"),
                 .forget_bias = program.get<double>("forget-bias"),
                 .max_train = program.get<int64_t>("max-train"),
                 .max_eval = program.get<int64_t>("max-eval"),
                 .lm_train_chars = program.get<int64_t>("lm-train-chars"),
                 .lm_val_chars = program.get<int64_t>("lm-val-chars"),
                 .bptt = program.get<int64_t>("bptt"),
                 .window = program.get<int64_t>("window")};
  for (const char* name : {"seeds", "epochs", "embed", "hidden", "batch", "bptt", "window", "season"})
    experiments::require_positive(name, double(program.get<int64_t>(name)));
  experiments::require_positive("lr", cfg.lr);
  for (const char* name : {"max-train", "max-eval", "lm-train-chars", "lm-val-chars"})
    if (program.get<int64_t>(name) < 0)
      throw std::invalid_argument(std::string("--") + name + ": must be >= 0 (0 = all), got " +
                                  std::to_string(program.get<int64_t>(name)));
  if (!(cfg.clip >= 0))
    throw std::invalid_argument("--clip: must be >= 0 (0 = off), got " + experiments::fmt(cfg.clip));
  return cfg;
}

// Every task trained (or re-tested with --eval-only), then overall/; returns the folders written.
std::vector<std::pair<std::string, std::vector<std::string>>> run_tasks(const experiments::Program& program,
                                                                        const std::vector<ac::TaskSpec>& specs,
                                                                        const ac::Config& cfg) {
  std::vector<std::pair<std::string, std::vector<std::string>>> written;
  std::vector<ac::TaskOutcome> outcomes;
  for (const ac::TaskSpec& spec : specs) {
    if (program.get<bool>("eval-only")) {
      ac::evaluate_task(program, spec, cfg);
      written.push_back({spec.run + "-eval", {}});
    } else {
      outcomes.push_back(ac::run_task(program, spec, program.get<int64_t>("seeds"), cfg));
      written.push_back({spec.run, {"val_curve", "train_loss"}});
    }
  }
  if (!outcomes.empty()) ac::write_overall(program, outcomes), written.push_back({"overall", {}});
  return written;
}

}  // namespace

// Under mpirun or srun the trainings are divided across the ranks (experiments/common/sweep.h);
// --synthetic-data is written, and --eval-only and --verify run, on rank 0 alone.
int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  experiments::Ranks ranks(argc, argv);
  return experiments::run_main([&]() -> int {
    experiments::Program program(
        "architecture_comparison",
        "Experiment 2: vanilla RNN vs LSTM vs GRU vs BiLSTM on sentiment, POS tagging, a "
        "character LM and forecasting (bundled sets or your --data-* files; mean ± std over "
        "seeds, next to each task's baselines). --quick uses the values after '--quick:' on "
        "real subsets: under 4 minutes wall on 2 idle cores. --resume skips finished trainings");
    ac::declare_options(program);
    if (!program.parse(argc, argv)) return 0;
    experiments::check_same_config(program);
    const ac::Config cfg = read_config(program);
    if (const std::string dir = program.get<std::string>("synthetic-data"); !dir.empty())
      experiments::agree(
          "--synthetic-data", [&] { ac::write_synthetic(dir); }, 0);
    if (program.get<bool>("eval-only") && !experiments::is_root()) return 0;
    const std::vector<ac::TaskSpec> specs = ac::load_tasks(program, ac::chosen_tasks(program), cfg);  // all data first
    const auto written = run_tasks(program, specs, cfg);
    if (!experiments::is_root()) return 0;
    if (program.get<bool>("verify")) return experiments::verify_runs(program.out(), written) > 0 ? 0 : 2;
    return 0;
  });
}
