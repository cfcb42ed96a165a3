// Experiment 3 (experiments/long_range/): the success criteria (the generators are the tasks
// library's, tested in tests/test_tasks.cpp), tiny training runs (finite, repeatable bit for bit at any thread count,
// and learning), units and saved models read back bit for bit, the verdicts over seeds, and the program's --resume and
// --eval-only on a tiny run.
#include <tbb/global_control.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "experiments/common/io.h"
#include "experiments/long_range/parts.h"
#include "experiments/long_range/program.h"
#include "temp_dir.h"

using namespace seqgrad;
namespace lrange = seqgrad::long_range;

using seqgrad::testing::same_bits;

namespace {

lrange::TrainConfig tiny(lrange::Task task, lrange::CellKind cell) {
  lrange::TrainConfig c;
  c.task = task;
  c.cell = cell;
  c.T = 12;
  c.hidden = 8;
  c.batch = 8;
  c.budget = 64;
  c.eval_every = 16;
  c.heldout = 20;
  c.eval_batch = 8;  // 3 chunks, the last one short
  c.lr = 1e-2;
  c.seed = 5;
  return c;
}

// Every number a run reports, in order, for a bitwise comparison.
std::vector<double> flatten(const lrange::TrainResult& r) {
  std::vector<double> v{double(r.solved), double(r.sequences), r.final_accuracy, r.final_loss, r.best_accuracy};
  for (const auto& p : r.curve) v.insert(v.end(), {double(p.sequences), p.accuracy, p.loss, p.train_loss});
  return v;
}

}  // namespace

TEST_CASE("long range criteria on hand-made predictions", "[experiments][long_range]") {
  std::vector<double> pred(100, 0.5), target(100, 0.5);
  pred[0] = 0.6;  // 99 of 100 right: solved (>= 99%)
  REQUIRE(lrange::solved(lrange::Task::adding, tasks::adding_accuracy(pred, target)));
  pred[1] = 0.6;  // 98%: not solved
  REQUIRE_FALSE(lrange::solved(lrange::Task::adding, tasks::adding_accuracy(pred, target)));
  REQUIRE(lrange::solved(lrange::Task::temporal_order, 0.995));
  REQUIRE_FALSE(lrange::solved(lrange::Task::temporal_order, 0.99));  // error exactly 1% is not < 1%
  REQUIRE(lrange::parse_task("adding") == lrange::Task::adding);
  REQUIRE(lrange::parse_task(lrange::task_name(lrange::Task::temporal_order)) == lrange::Task::temporal_order);
  REQUIRE_THROWS_AS(lrange::parse_task("copy"), std::invalid_argument);
}

TEST_CASE("long range training: tiny runs are finite and follow the budget", "[experiments][long_range]") {
  for (auto task : {lrange::Task::adding, lrange::Task::temporal_order})
    for (auto cell : {lrange::CellKind::rnn, lrange::CellKind::lstm, lrange::CellKind::gru}) {
      const lrange::TrainConfig cfg = tiny(task, cell);
      const lrange::TrainResult r = lrange::train(cfg);
      INFO(lrange::task_name(task) << " " << lrange::cell_name(cell));
      REQUIRE(r.num_parameters > 0);
      REQUIRE(!r.curve.empty());
      REQUIRE(r.curve.front().sequences == 0);
      REQUIRE(std::isnan(r.curve.front().train_loss));
      for (size_t i = 1; i < r.curve.size(); ++i) {
        REQUIRE(r.curve[i].sequences > r.curve[i - 1].sequences);
        REQUIRE(std::isfinite(r.curve[i].train_loss));
      }
      for (const auto& p : r.curve) REQUIRE((std::isfinite(p.loss) && p.accuracy >= 0 && p.accuracy <= 1));
      REQUIRE(r.curve.back().sequences <= cfg.budget);
      REQUIRE((r.solved || r.curve.back().sequences == cfg.budget));
      REQUIRE(r.final_accuracy == r.curve.back().accuracy);
    }
  lrange::TrainConfig bad = tiny(lrange::Task::temporal_order, lrange::CellKind::lstm);
  bad.T = 9;
  REQUIRE_THROWS_AS(lrange::train(bad), std::invalid_argument);
  bad = tiny(lrange::Task::adding, lrange::CellKind::lstm);
  bad.lr = 0;
  REQUIRE_THROWS_AS(lrange::train(bad), std::invalid_argument);
}

TEST_CASE("long range: the held-out set depends on seed, task and T only", "[experiments][long_range]") {
  const auto a = lrange::heldout_set(lrange::Task::adding, 20, 10, 4, 9),
             b = lrange::heldout_set(lrange::Task::adding, 20, 10, 4, 9);
  REQUIRE(a.size() == 3);
  REQUIRE(a[2].x.size(0) == 2);
  for (size_t i = 0; i < a.size(); ++i) REQUIRE(same_bits(a[i].x.to_vector(), b[i].x.to_vector()));
  const auto other = lrange::heldout_set(lrange::Task::adding, 20, 10, 4, 10);
  REQUIRE_FALSE(same_bits(a[0].x.to_vector(), other[0].x.to_vector()));
}

TEST_CASE("long range training: bitwise identical across runs and thread counts", "[experiments][long_range]") {
  auto run = [] {
    std::vector<double> all;
    for (auto task : {lrange::Task::adding, lrange::Task::temporal_order})
      for (auto cell : {lrange::CellKind::rnn, lrange::CellKind::lstm, lrange::CellKind::gru}) {
        const auto v = flatten(lrange::train(tiny(task, cell)));
        all.insert(all.end(), v.begin(), v.end());
      }
    return all;
  };
  seqgrad::testing::require_thread_invariant(run);
}

TEST_CASE("long range training: the 1997 LSTM trains, and chrono initialisation changes only LSTM runs",
          "[experiments][long_range]") {
  const lrange::TrainResult original = lrange::train(tiny(lrange::Task::adding, lrange::CellKind::lstm1997));
  CHECK(original.num_parameters == 3 * (8 * (8 + 2) + 8) + 8 + 1);  // cell + Linear(8 -> 1) head
  for (const auto& p : original.curve) CHECK(std::isfinite(p.loss));
  for (auto cell : {lrange::CellKind::lstm, lrange::CellKind::gru}) {
    lrange::TrainConfig c = tiny(lrange::Task::adding, cell);
    const lrange::TrainResult plain = lrange::train(c);
    c.chrono = true;
    const lrange::TrainResult chrono = lrange::train(c);
    CHECK(same_bits(flatten(plain), flatten(chrono)) == (cell == lrange::CellKind::gru));
  }
}

TEST_CASE("long range training: a run stopped mid-way resumes from its checkpoint to the same bits",
          "[experiments][long_range]") {
  seqgrad::testing::TempDir dir("long-range-partial");
  for (auto cell : {lrange::CellKind::lstm, lrange::CellKind::gru}) {
    lrange::TrainConfig c = tiny(lrange::Task::adding, cell);
    const lrange::TrainResult whole = lrange::train(c);
    REQUIRE(whole.curve.size() == 5);  // evaluations at 0, 16, 32, 48, 64 sequences

    c.checkpoint = (dir.path / (std::string(experiments::cell_name(cell)) + ".partial.sgck")).string();
    c.checkpoint_config = "tiny";
    c.on_eval = [](int64_t seen, double) {
      if (seen == 32) throw std::runtime_error("killed");  // after the checkpoint at 32 sequences
    };
    REQUIRE_THROWS_WITH(lrange::train(c), "killed");
    std::vector<int64_t> evaluated;
    c.on_eval = [&](int64_t seen, double) { evaluated.push_back(seen); };
    const lrange::TrainResult resumed = lrange::train(c);
    CHECK(evaluated == std::vector<int64_t>{48, 64});  // it went on from 32, it did not start again
    CHECK(same_bits(flatten(resumed), flatten(whole)));
    for (const auto& [name, value] : whole.parameters) CHECK(bitwise_equal(resumed.parameters.at(name), value));

    c.checkpoint_config = "another configuration";
    REQUIRE_THROWS_WITH(lrange::train(c), Catch::Contains(c.checkpoint));
  }
}

TEST_CASE("long range training: a GRU learns the temporal order at T = 20 and stops at the criterion",
          "[experiments][long_range]") {
  lrange::TrainConfig c = tiny(lrange::Task::temporal_order, lrange::CellKind::gru);
  c.T = 20;
  c.hidden = 16;
  c.batch = 32;
  c.lr = 2e-2;
  c.budget = 16384;
  c.eval_every = 512;
  c.heldout = 200;
  c.eval_batch = 200;
  const lrange::TrainResult r = lrange::train(c);
  REQUIRE(r.solved);
  REQUIRE(r.final_accuracy > 0.99);
  REQUIRE(r.sequences < c.budget);
  REQUIRE(r.curve.back().sequences == r.sequences);  // stopped at the first evaluation that met it
  for (size_t i = 0; i + 1 < r.curve.size(); ++i) REQUIRE_FALSE(lrange::solved(c.task, r.curve[i].accuracy));
  REQUIRE(r.curve.front().accuracy < 0.5);  // untrained: near chance (0.25)
}

TEST_CASE("long range training: an LSTM learns the adding problem at T = 10, far below predicting the mean",
          "[experiments][long_range]") {
  lrange::TrainConfig c = tiny(lrange::Task::adding, lrange::CellKind::lstm);
  c.T = 10, c.hidden = 16, c.batch = 32, c.budget = 12800;  // stops early once 99% are within 0.04
  c.eval_every = 3200, c.heldout = c.eval_batch = 200;
  const lrange::TrainResult r = lrange::train(c);
  // The baseline: predicting the held-out targets' own mean, i.e. their variance (1/24 in theory).
  const std::vector<double> target =
      lrange::heldout_set(c.task, c.T, c.heldout, c.eval_batch, c.seed)[0].target.to_vector();
  double mean = 0, baseline = 0;
  for (double t : target) mean += t / double(target.size());
  for (double t : target) baseline += (t - mean) * (t - mean) / double(target.size());
  INFO("held-out MSE " << r.final_loss << ", predicting the mean " << baseline);
  REQUIRE(r.final_loss < 0.25 * baseline);
  REQUIRE(r.curve.front().loss > baseline);  // untrained: no better than the mean
}

TEST_CASE("long range units and saved models read back bit for bit", "[experiments][long_range]") {
  const lrange::TrainConfig cfg = tiny(lrange::Task::temporal_order, lrange::CellKind::gru);
  const lrange::TrainResult r = lrange::train(cfg);
  double seconds = 0;
  const lrange::TrainResult back =
      lrange::result_from_unit(nn::decode_checkpoint(nn::encode_checkpoint(lrange::train_unit(r, 1.25))), &seconds);
  REQUIRE(seconds == 1.25);
  REQUIRE(same_bits(flatten(back), flatten(r)));
  REQUIRE((back.task == r.task && back.cell == r.cell && back.T == r.T && back.num_parameters == r.num_parameters));
  REQUIRE((back.diverged == r.diverged && back.parameters.size() == r.parameters.size()));

  nn::Checkpoint saved;  // as Run::save_models writes it
  for (const auto& [name, value] : r.parameters) saved.tensors["param/m/" + name] = value;
  const lrange::Evaluation e = lrange::evaluate_saved(cfg, saved, "param/m/");
  REQUIRE(same_bits({e.accuracy, e.loss}, {r.curve.back().accuracy, r.curve.back().loss}));
  lrange::TrainConfig other = cfg;
  other.hidden = 9;
  REQUIRE_THROWS_AS(lrange::evaluate_saved(other, saved, "param/m/"), std::invalid_argument);
}

namespace {

// One (cell, T) of synthetic runs: each seed solved after `sequences[i]` (0 = not solved).
std::vector<lrange::TrainResult> runs_of(lrange::CellKind cell, int64_t T, const std::vector<int64_t>& sequences) {
  std::vector<lrange::TrainResult> out;
  for (int64_t s : sequences) {
    lrange::TrainResult r;
    r.cell = cell, r.T = T, r.solved = s > 0, r.sequences = s > 0 ? s : 1000;
    out.push_back(r);
  }
  return out;
}

lrange::Settings settings_of(size_t seeds) {
  lrange::Settings s;
  s.lengths = {50, 200};
  for (size_t i = 0; i < seeds; ++i) s.seeds.push_back(1 + i);
  s.budget[lrange::Task::adding] = 1000;
  return s;
}

}  // namespace

TEST_CASE("long range verdicts: comparisons over seeds, counts need 3 seeds", "[experiments][long_range]") {
  using K = lrange::CellKind;
  lrange::TaskRuns runs;
  runs[{K::rnn, 50}] = runs_of(K::rnn, 50, {300, 350, 320});
  runs[{K::rnn, 200}] = runs_of(K::rnn, 200, {0, 0, 0});
  runs[{K::lstm, 200}] = runs_of(K::lstm, 200, {400, 420, 500});
  runs[{K::gru, 200}] = runs_of(K::gru, 200, {200, 260, 240});
  const lrange::Settings three = settings_of(3);
  const auto held = lrange::elman_claim(runs, three, lrange::Task::adding);
  REQUIRE(held.verdict == "holds");
  REQUIRE(held.expected.find(experiments::kVerdictRuleShort) != std::string::npos);
  REQUIRE(lrange::gated_claim(runs, three, lrange::Task::adding).verdict == "holds");
  runs[{K::lstm, 200}] = runs_of(K::lstm, 200, {0, 0, 0});  // the LSTM fails as well: not the RNN's own failure
  REQUIRE(lrange::elman_claim(runs, three, lrange::Task::adding).verdict == "does not hold");
  REQUIRE(lrange::gated_claim(runs, three, lrange::Task::adding).verdict == "inconclusive");  // some solved, some not

  lrange::TaskRuns one;
  for (const auto& [key, seeds] : runs) one[key] = {seeds.front()};
  for (const auto& c : {lrange::elman_claim(one, settings_of(1), lrange::Task::adding),
                        lrange::gated_claim(one, settings_of(1), lrange::Task::adding)}) {
    REQUIRE(c.verdict == "inconclusive");
    REQUIRE(c.measured.find("--seeds") != std::string::npos);
  }
}

namespace {

// long_range as main() runs it, in-process: the adding problem at T = 10 and 12, two seeds, tiny
// budgets, in `out`. Returns the runs it trained (not read back).
std::vector<std::string> tiny_program(const std::string& out, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"long_range", "--quick", "--tasks",         "adding", "--lengths",    "10,12",
                                   "--hidden",   "4",       "--adding-budget", "32",     "--eval-every", "16",
                                   "--heldout",  "16",      "--seeds",         "2",      "--cells",      "elman,gru",
                                   "--out",      out};
  args.insert(args.end(), extra.begin(), extra.end());
  int evaluated = -1;
  const std::vector<std::string> trained = experiments::run_in_process(lrange::study(), args, &evaluated);
  if (evaluated >= 0) REQUIRE(evaluated == 8);  // --eval-only: 2 cells x 2 lengths x 2 seeds
  return trained;
}

}  // namespace

TEST_CASE("long range program: --resume trains nothing and writes the same metrics", "[experiments][long_range]") {
  seqgrad::testing::TempDir dir("long-range-resume");
  REQUIRE(tiny_program(dir.path.string(), {}).size() == 8);
  const std::filesystem::path run = dir.path / "long_range" / "adding";
  const std::string metrics = experiments::read_file(run / "metrics.json");
  REQUIRE(experiments::read_file(run / "metrics" / "cells.csv").find("reset-after") != std::string::npos);
  REQUIRE(tiny_program(dir.path.string(), {"--resume"}).empty());
  REQUIRE(experiments::read_file(run / "metrics.json") == metrics);
}

TEST_CASE("long range program: --eval-only reproduces each saved model's held-out metric",
          "[experiments][long_range]") {
  seqgrad::testing::TempDir dir("long-range-eval");
  tiny_program(dir.path.string(), {});
  tiny_program(dir.path.string(), {"--eval-only", "--seed", "9"});  // the run's own config.ini wins
  const std::filesystem::path metrics = dir.path / "long_range" / "adding" / "metrics";
  const std::string eval = experiments::read_file(metrics / "eval_heldout.csv");
  const std::string summary = experiments::read_file(metrics / "summary.csv");
  // summary: cell,T,seed,parameters,solved,sequences,final_accuracy,final_loss,...; eval: cell,T,seed,accuracy,loss
  size_t rows = 0;
  for (size_t start = summary.find('\n') + 1; start < summary.size(); start = summary.find('\n', start) + 1, ++rows) {
    const std::vector<std::string> f =
        experiments::split_csv_line(summary.substr(start, summary.find('\n', start) - start));
    REQUIRE(eval.find("\n" + f[0] + "," + f[1] + "," + f[2] + "," + f[6] + "," + f[7] + "\n") != std::string::npos);
  }
  REQUIRE(rows == 8);
  seqgrad::testing::TempDir empty("long-range-none");
  REQUIRE_THROWS_AS(tiny_program(empty.path.string(), {"--eval-only"}), std::invalid_argument);
}
