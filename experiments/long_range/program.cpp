// long_range's options, their checks, the dispatch to the tasks and --eval-only (program.h).
#include "experiments/long_range/program.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/long_range/parts.h"
#include "nn/io/checkpoint.h"

namespace seqgrad::long_range {

namespace {

namespace fs = std::filesystem;
using experiments::fmt;
using experiments::Program;

// --quick values (chosen so both tasks, 3 cells and T = 50, 100, 200 fit in ~3 min on 2 cores);
// kHidden is used in both modes (64 units learned no faster than 32 in a sweep at T = 100).
constexpr int64_t kHidden = 32, kQuickAddingBudget = 60000, kQuickOrderBudget = 60000, kQuickEvalEvery = 2048,
                  kQuickHeldout = 1000;
// Adam learning rates per cell, from a sweep over 3e-4..2e-2 at T = 50 and 100 (see full.ini).
constexpr double kLrElman = 5e-4, kLrLstm = 1e-3, kLrGru = 2e-2;

std::vector<int64_t> parse_lengths(const std::string& text) {
  std::vector<int64_t> out;
  for (double v : experiments::parse_number_list("lengths", text)) {
    if (v != std::floor(v) || v < 10 || v > 1e6)
      throw std::invalid_argument("--lengths: each length must be a whole number in 10..1000000, got '" + fmt(v) +
                                  "' in '" + text + "'");
    out.push_back(int64_t(v));
  }
  if (out.empty()) throw std::invalid_argument("--lengths: empty list");
  return out;
}

// The model and optimiser settings every run shares (TrainConfig fields), checked.
TrainConfig base_config(const Program& program) {
  const TrainConfig base{.hidden = program.get<int64_t>("hidden"),
                         .batch = program.get<int64_t>("batch"),
                         .clip = program.get<double>("clip"),
                         .forget_bias = program.get<double>("forget-bias"),
                         .chrono = program.get<bool>("chrono"),
                         .eval_every = program.get<int64_t>("eval-every"),
                         .heldout = program.get<int64_t>("heldout"),
                         .eval_batch = program.get<int64_t>("eval-batch")};
  for (const char* name : {"hidden", "batch", "eval-every", "heldout", "eval-batch"})
    experiments::require_positive(name, double(program.get<int64_t>(name)));
  if (!(base.clip >= 0) || !std::isfinite(base.clip))
    throw std::invalid_argument("--clip: must be finite and >= 0 (0 = off), got " + fmt(base.clip));
  return base;
}

Settings settings(const Program& program) {
  Settings s;
  s.cells = experiments::cell_list(program);
  s.lengths = parse_lengths(program.get<std::string>("lengths"));
  s.seeds = experiments::seed_list(program);
  for (auto [cell, option] :
       std::initializer_list<std::pair<CellKind, const char*>>{{CellKind::rnn, "lr-elman"},
                                                               {CellKind::lstm, "lr-lstm"},
                                                               {CellKind::gru, "lr-gru"},
                                                               {CellKind::lstm1997, "lr-lstm1997"}}) {
    s.cell_lr[cell] = program.get<double>(option);
    experiments::require_positive(option, s.cell_lr[cell]);
  }
  for (auto [task, option] : std::initializer_list<std::pair<Task, const char*>>{
           {Task::adding, "adding-budget"}, {Task::temporal_order, "order-budget"}}) {
    s.budget[task] = program.get<int64_t>(option);
    experiments::require_positive(option, double(s.budget[task]));
  }
  s.base = base_config(program);
  return s;
}

std::vector<Task> task_list(const Program& program) {
  std::vector<Task> tasks;
  for (const std::string& t :
       experiments::parse_name_list("tasks", program.get<std::string>("tasks"), {"adding", "temporal_order"}))
    tasks.push_back(parse_task(t));
  return tasks;
}

// --eval-only for one task folder: every saved model on its held-out set; returns how many.
int eval_task(const fs::path& dir, Task task) {
  const Settings s = settings(experiments::saved_program(study(), dir));
  const nn::Checkpoint ckpt = nn::load_checkpoint((dir / "checkpoint.sgck").string());
  experiments::CsvLog csv(dir / "metrics" / "eval_heldout.csv", {"cell", "T", "seed", "accuracy", "loss"});
  std::printf(
      "%s: held-out %lld sequences per T, %s\n", task_name(task), static_cast<long long>(s.base.heldout),
      task == Task::adding ? "accuracy = fraction with |error| < 0.04, loss = MSE" : "accuracy, loss = cross-entropy");
  int evaluated = 0;
  for (int64_t T : s.lengths)
    for (CellKind cell : s.cells)
      for (uint64_t seed : s.seeds) {
        const Evaluation e =
            evaluate_saved(run_config(s, task, cell, T, seed), ckpt, "param/" + series(cell, T, seed) + "/");
        csv.row({std::string(cell_name(cell)), T, int64_t(seed), e.accuracy, e.loss});
        std::printf("  %-18s accuracy %.4f  loss %.6g\n", series(cell, T, seed).c_str(), e.accuracy, e.loss);
        ++evaluated;
      }
  return evaluated;
}

}  // namespace

void declare_options(Program& program) {
  // The option table: full-run value, then the --quick value where a smoke run differs.
  program.option<std::string>("tasks", "adding,temporal_order", "tasks to run (comma-separated)");
  program.option<std::string>("cells", "elman,lstm,gru", "cells (elman = rnn; the GRU in the reset-after form)");
  program.option<std::string>("lengths", "50,100,200,500,1000", "50,100,200", "sequence lengths T");
  program.option<int64_t>("seeds", 3, 1, "seeds per (task, cell, T), --seed on (comparisons need 3)");
  program.option<int64_t>("hidden", kHidden, "hidden units");
  program.option<int64_t>("batch", 32, "training batch");
  program.option<double>("lr-elman", kLrElman, "Adam learning rate of the Elman RNN");
  program.option<double>("lr-lstm", kLrLstm, "Adam learning rate of the LSTM");
  program.option<double>("lr-gru", kLrGru, "Adam learning rate of the GRU");
  program.option<double>("lr-lstm1997", kLrLstm, "Adam learning rate of the 1997 LSTM (cells = lstm1997)");
  program.option<double>("clip", 1.0, "clip-by-norm threshold (0 = off)");
  program.option<double>("forget-bias", 1.0, "LSTM forget-gate bias");
  program.flag("chrono",
               "LSTM gate biases by chrono initialisation (Tallec & Ollivier 2018) with timescales up to T, "
               "instead of --forget-bias");
  program.option<int64_t>("adding-budget", 300000, kQuickAddingBudget,
                          "adding problem: training sequences per run at most");
  program.option<int64_t>("order-budget", 300000, kQuickOrderBudget,
                          "temporal order: training sequences per run at most");
  program.option<int64_t>("eval-every", 4096, kQuickEvalEvery, "training sequences between held-out evaluations");
  program.option<int64_t>("heldout", 1000, kQuickHeldout, "fixed held-out sequences per (task, T)");
  program.option<int64_t>("eval-batch", 250, "held-out sequences per forward pass (memory only)");
  program.flag("eval-only",
               "train nothing: evaluate the models saved in <out>/long_range/<task>/checkpoint.sgck on "
               "their held-out sets under that run's config.ini; writes metrics/eval_heldout.csv");
  program.flag("verify", "afterwards, check that every output exists and parses (exit 2 if not)");
}

Written run_tasks(const Program& program, const Hooks& hooks) {
  const std::vector<Task> tasks = task_list(program);
  const Settings s = settings(program);
  Written out;
  for (Task task : tasks) {
    const std::vector<Claim> claims = task_part(program, task, s, hooks);
    out.claims.insert(out.claims.end(), claims.begin(), claims.end());
    out.runs.push_back({task_name(task), {"accuracy", "loss"}});
  }
  return out;
}

int eval_only(const Program& program) {
  int evaluated = 0;
  for (Task task : task_list(program)) {
    const fs::path dir = program.out() / task_name(task);
    if (fs::exists(dir / "checkpoint.sgck")) evaluated += eval_task(dir, task);
    else std::printf("%s: no saved models in %s\n", task_name(task), dir.string().c_str());
  }
  if (evaluated == 0)
    throw std::invalid_argument("--eval-only: no checkpoint.sgck under " + program.out().string() +
                                " (run the tasks first)");
  return evaluated;
}

experiments::Study study() {
  return {"long_range", "Experiment 3: long-range memory (adding problem, temporal-order task)", declare_options,
          run_tasks, eval_only};
}

}  // namespace seqgrad::long_range
