// One task of long_range (task_part.cpp) and the claims judged from its runs (verdicts.cpp).
// Internal to the study: program.cpp reads the options and calls these.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "experiments/common/experiment.h"
#include "experiments/long_range/long_range.h"
#include "experiments/long_range/program.h"

namespace seqgrad::long_range {

using experiments::Claim;

// Everything a task's runs share, read from the options.
struct Settings {
  std::vector<CellKind> cells;
  std::vector<int64_t> lengths;
  std::vector<uint64_t> seeds;         // --seeds of them, from --seed on
  std::map<CellKind, double> cell_lr;  // Adam learning rate per cell
  std::map<Task, int64_t> budget;      // training sequences per run at most
  TrainConfig base;                    // hidden, batch, clip, forget bias, eval_every, heldout, eval_batch
};

// The config of one run: task, cell, T and seed on top of s.base.
TrainConfig run_config(const Settings& s, Task task, CellKind cell, int64_t T, uint64_t seed);
// "<cell>_T<T>_seed<seed>": the run's series in the CSVs and its model's key in checkpoint.sgck.
std::string series(CellKind cell, int64_t T, uint64_t seed);

// Trains (or reads back with --resume) every (cell, T, seed) of `task` in <out>/long_range/<task>/,
// logs, plots, saves the models and returns the task's claims.
std::vector<Claim> task_part(const experiments::Program& program, Task task, const Settings& s, const Hooks& hooks);

// ---- claims (verdicts.cpp) ------------------------------------------------------------------------

// Every run of one task, by (cell, T): one result per seed, in the order of Settings::seeds.
using TaskRuns = std::map<std::pair<CellKind, int64_t>, std::vector<TrainResult>>;
// "LSTM and GRU solve the task at T >= 100": every such run meets the criterion (needs kMinSeeds seeds).
Claim gated_claim(const TaskRuns& runs, const Settings& s, Task task);
// "The vanilla RNN fails as T grows": compare() over seeds of the sequences needed (the budget when
// the criterion was not met): Elman needs more at the longest T than at the shortest, and more than
// LSTM and GRU at the longest T.
Claim elman_claim(const TaskRuns& runs, const Settings& s, Task task);

}  // namespace seqgrad::long_range
