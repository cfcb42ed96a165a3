// One task of long_range: every (cell, T, seed) run, trained in parallel (and across MPI ranks) or
// read back as a unit with --resume, then logged (curves, summary, timing, cells), plotted, saved and judged
// (verdicts.cpp).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "experiments/long_range/parts.h"

namespace seqgrad::long_range {

namespace {

using experiments::fmt;

struct Timed {
  TrainResult result;
  double seconds = 0;  // wall clock of the training (as saved in the unit when read back)
};

std::string unit_key(const TrainConfig& c) {
  return std::string(task_name(c.task)) + "_" + series(c.cell, c.T, c.seed);
}

// The shared progress line of the runs this rank trains: every run's share is its budget.
struct SharedProgress {
  std::unique_ptr<experiments::Progress> line;  // made when this rank knows its runs
  std::mutex mutex;
  int64_t done = 0;
};

// SEQGRAD_KILL_AT_EVALUATION=<n> (for tests): the process SIGKILLs itself right after a training's
// n-th evaluation, whose checkpoint is then on disk; 0 when unset.
int64_t kill_at_evaluation() {
  const char* v = std::getenv("SEQGRAD_KILL_AT_EVALUATION");
  return v ? std::atoll(v) : 0;
}

// Trains one run, reporting its evaluations to the shared progress line, checkpointing it at every
// evaluation into the store's in-progress file (so --resume continues it); returns its unit.
nn::Checkpoint train_one(TrainConfig c, const experiments::UnitStore& store, SharedProgress& progress) {
  c.checkpoint = store.in_progress(unit_key(c));
  c.checkpoint_config = store.config() + "unit = " + unit_key(c) + "\n";
  int64_t last = 0, evaluations = 0;
  c.on_eval = [&, kill_at = kill_at_evaluation()](int64_t seen, double loss) {
    if (++evaluations == kill_at) std::raise(SIGKILL);
    std::lock_guard<std::mutex> lock(progress.mutex);
    progress.done += seen - last;
    if (seen > last) progress.line->update(progress.done, loss, seen - last);
    last = seen;
  };
  const TrainResult r = train(c);
  std::lock_guard<std::mutex> lock(progress.mutex);
  progress.done += c.budget - last;  // an early stop finishes its share of the total
  return train_unit(r, r.seconds);
}

// Every config as a unit of work (sweep.h), its cost budget × T × the cell's weight blocks × hidden²:
// the ones not yet in the store are divided across the ranks, and each rank trains its share two or
// more at a time when threads allow, longest first. Results come back in the order of `configs`,
// whatever the scheduling, each read from its unit.
std::vector<Timed> train_all(const std::vector<TrainConfig>& configs, const experiments::UnitStore& store,
                             const std::string& what, const Hooks& hooks) {
  SharedProgress progress;
  std::vector<experiments::Unit> units;
  for (const TrainConfig& c : configs)
    units.push_back({unit_key(c), double(c.budget * c.T) * experiments::cell_cost(c.cell) * double(c.hidden * c.hidden),
                     [c, &store, &progress] { return train_one(c, store, progress); }});
  const auto start = [&](const std::vector<size_t>& mine) {
    progress.line =
        std::make_unique<experiments::Progress>(what, configs.empty() ? 0 : configs[0].budget * int64_t(mine.size()));
  };
  const std::vector<nn::Checkpoint> done =
      experiments::train_units(store, units, {.parallel = true, .on_start = start, .on_trained = hooks.on_train});
  if (progress.done > 0) progress.line->finish();  // nothing to report when this rank trained nothing
  std::vector<Timed> out(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) out[i].result = result_from_unit(done[i], &out[i].seconds);
  return out;
}

// The task's CSVs.
struct Logs {
  experiments::CsvLog &curves, &summary, &timing;
};
Logs open_logs(experiments::Run& run) {
  return {run.csv("curves", {"sequences", "series", "cell", "T", "seed", "accuracy", "loss", "train_loss"}),
          run.csv("summary", {"cell", "T", "seed", "parameters", "solved", "sequences", "final_accuracy", "final_loss",
                              "best_accuracy", "diverged"}),
          run.csv("timing", {"cell", "T", "seed", "seconds", "sequences_per_second"})};
}

// One run's rows, metrics and line on stdout.
void log_run(const Logs& logs, std::map<std::string, experiments::Value>& metrics, const Timed& t, uint64_t seed) {
  const TrainResult& r = t.result;
  const std::string cell = cell_name(r.cell), key = cell + "/T" + std::to_string(r.T) + "/seed" + std::to_string(seed);
  // Sequences actually trained on (a solved run stops at r.sequences; an unsolved one at the budget).
  const int64_t trained = r.curve.empty() ? 0 : r.curve.back().sequences;
  for (const CurvePoint& p : r.curve)
    logs.curves.row(
        {p.sequences, series(r.cell, r.T, seed), cell, r.T, int64_t(seed), p.accuracy, p.loss, p.train_loss});
  logs.summary.row({cell, r.T, int64_t(seed), r.num_parameters, int64_t(r.solved), r.sequences, r.final_accuracy,
                    r.final_loss, r.best_accuracy, int64_t(r.diverged)});
  logs.timing.row({cell, r.T, int64_t(seed), t.seconds, t.seconds > 0 ? double(trained) / t.seconds : 0.0});
  metrics[key + "/solved"] = int64_t(r.solved);
  metrics[key + "/sequences"] = r.sequences;
  metrics[key + "/final_accuracy"] = r.final_accuracy;
  metrics[key + "/final_loss"] = r.final_loss;
  metrics[key + "/best_accuracy"] = r.best_accuracy;
  metrics[key + "/parameters"] = r.num_parameters;
  std::printf("  %-6s %6lld %5llu  %-8s %10lld  %9.4f  %10.4g  %8.1f\n", cell.c_str(), static_cast<long long>(r.T),
              static_cast<unsigned long long>(seed),
              r.solved     ? "yes"
              : r.diverged ? "diverged"
                           : "no",
              static_cast<long long>(r.sequences), r.final_accuracy, r.final_loss, t.seconds);
}

void plot_task(experiments::Run& run, Task task) {
  const std::string pretty = task == Task::adding ? "adding problem" : "temporal-order task";
  const std::string crit = task == Task::adding ? "fraction with |error| < 0.04 (solved at >= 0.99)"
                                                : "classification accuracy (solved at error < 1%)";
  run.plot({.name = "accuracy",
            .csv = "curves",
            .x = "sequences",
            .y = {"accuracy"},
            .group_by = "series",
            .title = pretty + ": held-out " + crit,
            .x_label = "training sequences seen",
            .y_label = "held-out accuracy"});
  run.plot({.name = "loss",
            .csv = "curves",
            .x = "sequences",
            .y = {"loss"},
            .group_by = "series",
            .log_y = true,
            .title = pretty + ": held-out " + (task == Task::adding ? "MSE" : "cross-entropy"),
            .x_label = "training sequences seen",
            .y_label = "held-out loss"});
}

// The settings every run of the task shares, for metrics.json; cells.csv says how each cell is built.
void log_settings(experiments::Run& run, std::map<std::string, experiments::Value>& metrics, const Settings& s,
                  Task task) {
  auto& cells = run.csv("cells", {"cell", "form"});
  for (CellKind cell : s.cells) cells.row({std::string(cell_name(cell)), experiments::cell_form(cell)});
  metrics["budget"] = s.budget.at(task);
  metrics["heldout"] = s.base.heldout;
  metrics["hidden"] = s.base.hidden;
  metrics["batch"] = s.base.batch;
  metrics["seeds"] = int64_t(s.seeds.size());
  for (const auto& [cell, rate] : s.cell_lr) metrics[std::string("lr_") + cell_name(cell)] = rate;
}

}  // namespace

TrainConfig run_config(const Settings& s, Task task, CellKind cell, int64_t T, uint64_t seed) {
  TrainConfig c = s.base;
  c.task = task;
  c.cell = cell;
  c.lr = s.cell_lr.at(cell);
  c.T = T;
  c.seed = seed;
  c.budget = s.budget.at(task);
  return c;
}

std::string series(CellKind cell, int64_t T, uint64_t seed) {
  return std::string(cell_name(cell)) + "_T" + std::to_string(T) + "_seed" + std::to_string(seed);
}

std::vector<Claim> task_part(const experiments::Program& program, Task task, const Settings& s, const Hooks& hooks) {
  experiments::Run run(program, task_name(task));
  const experiments::UnitStore store(run);
  std::vector<TrainConfig> configs;
  for (int64_t T : s.lengths)
    for (CellKind cell : s.cells)
      for (uint64_t seed : s.seeds) configs.push_back(run_config(s, task, cell, T, seed));
  const std::vector<Timed> runs = train_all(configs, store, task_name(task), hooks);

  std::map<std::string, experiments::Value> metrics;
  const Logs logs = open_logs(run);
  std::printf("%s: budget %lld sequences per run, held-out %lld sequences\n", task_name(task),
              static_cast<long long>(s.budget.at(task)), static_cast<long long>(s.base.heldout));
  std::printf("  %-6s %6s %5s  %-8s %10s  %9s  %10s  %8s\n", "cell", "T", "seed", "solved", "sequences", "accuracy",
              "loss", "seconds");
  TaskRuns by_cell;
  std::map<std::string, experiments::Run::NamedTensors> models;  // every trained model, by series
  for (size_t i = 0; i < runs.size(); ++i) {
    log_run(logs, metrics, runs[i], configs[i].seed);
    by_cell[{configs[i].cell, configs[i].T}].push_back(runs[i].result);
    models[series(configs[i].cell, configs[i].T, configs[i].seed)] = runs[i].result.parameters;
  }
  plot_task(run, task);
  run.save_models(models);
  log_settings(run, metrics, s, task);
  run.finish(metrics);
  std::vector<Claim> claims{gated_claim(by_cell, s, task), elman_claim(by_cell, s, task)};
  experiments::write_claims(run, claims);
  return claims;
}

}  // namespace seqgrad::long_range
