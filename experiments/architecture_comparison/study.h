// Experiment 2 into run folders: a task's trainings (every cell and seed; each finished one saved
// as a unit, so --resume skips it), its tables (with the baselines), curves, plots and
// metrics.json; --eval-only re-tests a run's saved models; overall/ sets the tasks side by side
// and judges the guide's claims (verdicts.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "experiments/architecture_comparison/architecture_comparison.h"
#include "experiments/architecture_comparison/baselines.h"
#include "experiments/common/experiment.h"

namespace seqgrad::architecture_comparison {

// One task on one data set, loaded and encoded, ready to run.
struct TaskSpec {
  std::string task;                  // "sentiment", "tagging", "lm" or "forecast"
  std::string run;                   // run folder: the task, or "<task>-<file stem>" for a user's file
  std::string title;                 // plot titles, e.g. "sentiment (UCI sentiment)", "forecast (co2)"
  std::vector<std::string> metrics;  // the Result::metrics reported; the first is the primary one
  std::vector<CellKind> cells;
  std::vector<Baseline> baselines;
  std::vector<experiments::DataFile> files;  // recorded in env.json
  std::string data_summary;                  // what the loader understood and the task uses: <run>/data.txt
  std::function<Result(CellKind, const Config&)> train;
  std::function<Metrics(CellKind, const Config&, const NamedTensors&)> evaluate;
};

// A task's results, what the claims are judged on.
struct CellStats {
  CellKind cell = CellKind::lstm;
  std::vector<Result> seeds;
  std::map<std::string, MeanStd> metric;                      // reported metric -> mean ± std over seeds
  std::vector<double> values(const std::string& name) const;  // per seed
  std::vector<double> cpu_seconds() const;                    // per epoch and seed (the speed claim's samples)
};
struct TaskOutcome {
  std::string task, primary;  // primary metric: what the cells are compared on
  bool higher = true;
  std::vector<CellStats> cells;
  const CellStats* find(CellKind cell) const;  // nullptr when the task did not train it
};

// Trains (or, with --resume, reads back) every cell × seed of the task and writes its run folder.
TaskOutcome run_task(const experiments::Program& program, const TaskSpec& spec, int64_t seeds, const Config& base);
// --eval-only: re-tests the models in the run folder's checkpoint.sgck (saved under the same
// config) and writes <run>-eval/ with the test metrics; throws naming the file when there is none.
void evaluate_task(const experiments::Program& program, const TaskSpec& spec, const Config& base);
// overall/: every task's summary, the cells' forms, the verdict rule and the claims.
void write_overall(const experiments::Program& program, const std::vector<TaskOutcome>& outcomes);

// The unit key of one training ("lstm_seed3") and the model key in checkpoint.sgck ("lstm/seed3").
std::string unit_key(CellKind cell, uint64_t seed);
std::string model_key(CellKind cell, uint64_t seed);

}  // namespace seqgrad::architecture_comparison
