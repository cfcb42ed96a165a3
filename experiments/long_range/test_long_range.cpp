// Experiment 3 computations (experiments/common/long_range.h): the two generators (shapes, exactly
// two markers / relevant symbols at the documented positions, targets and labels), the success
// criteria on hand-made predictions, and a tiny training run: finite, repeatable bit for bit with
// the same seed and at any thread count.
#include <tbb/global_control.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "experiments/long_range/long_range.h"
#include "temp_dir.h"

using namespace seqgrad;
namespace lrange = seqgrad::long_range;

using seqgrad::testing::same_bits;

namespace {

double at(const std::vector<double>& x, int64_t b, int64_t t, int64_t T, int64_t F, int64_t f) {
  return x[size_t((b * T + t) * F + f)];
}

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

TEST_CASE("adding batch: two markers in the first half, one in the first ten steps, paper's target", "[experiments][long_range]") {
  for (int64_t T : {4, 12, 50, 101}) {
    Rng rng(7);
    const int64_t B = 200;
    const lrange::Batch b = lrange::adding_batch(rng, B, T);
    REQUIRE(b.x.shape() == Shape{B, T, 2});
    REQUIRE(b.target.shape() == Shape{B, 1});
    REQUIRE(b.labels.empty());
    const std::vector<double> x = b.x.to_vector(), target = b.target.to_vector();
    for (int64_t i = 0; i < B; ++i) {
      INFO("T = " << T << ", sequence " << i);
      std::vector<int64_t> marked;
      for (int64_t t = 0; t < T; ++t) {
        const double v = at(x, i, t, T, 2, 0), m = at(x, i, t, T, 2, 1);
        REQUIRE((v >= -1.0 && v < 1.0));
        REQUIRE((m == 0.0 || m == 1.0));
        if (m == 1.0) marked.push_back(t);
      }
      REQUIRE(marked.size() == 2);
      REQUIRE(marked[0] == b.first[size_t(i)]);
      REQUIRE(marked[1] == b.second[size_t(i)]);
      REQUIRE(marked[0] < std::min<int64_t>(10, T / 2));  // one of the first ten (within the first half)
      REQUIRE(marked[1] < T / 2);                         // the other in the first half
      const double expected = 0.5 + (at(x, i, marked[0], T, 2, 0) + at(x, i, marked[1], T, 2, 0)) / 4.0;
      REQUIRE(target[size_t(i)] == Approx(expected).margin(1e-6));  // f32 tensor
      REQUIRE((target[size_t(i)] >= 0.0 && target[size_t(i)] <= 1.0));
    }
  }
  REQUIRE(lrange::adding_target(1.0, 1.0) == 1.0);
  REQUIRE(lrange::adding_target(-1.0, -1.0) == 0.0);
  REQUIRE(lrange::adding_target(0.2, -0.6) == Approx(0.4));
  Rng rng(1);
  REQUIRE_THROWS_AS(lrange::adding_batch(rng, 4, 3), std::invalid_argument);
  REQUIRE_THROWS_AS(lrange::adding_batch(rng, 0, 50), std::invalid_argument);
}

TEST_CASE("adding batch: marker positions cover their ranges", "[experiments][long_range]") {
  Rng rng(11);
  const int64_t T = 40;
  const lrange::Batch b = lrange::adding_batch(rng, 2000, T);
  std::vector<int> early(10, 0), half(size_t(T / 2), 0);
  for (size_t i = 0; i < b.first.size(); ++i) {  // the earlier marker is always one of the first ten
    REQUIRE(b.first[i] < 10);
    ++early[size_t(b.first[i])];
    ++half[size_t(b.first[i])];
    ++half[size_t(b.second[i])];
  }
  for (int c : half) REQUIRE(c > 0);
  for (int c : early) REQUIRE(c > 0);
}

TEST_CASE("temporal order batch: one-hot, B and E at the ends, X/Y at the documented positions", "[experiments][long_range]") {
  for (int64_t T : {10, 50, 100, 203}) {
    Rng rng(3);
    const int64_t B = 200, F = lrange::num_symbols;
    const lrange::Batch b = lrange::temporal_order_batch(rng, B, T);
    REQUIRE(b.x.shape() == Shape{B, T, F});
    REQUIRE(b.labels.size() == size_t(B));
    const std::vector<double> x = b.x.to_vector();
    std::vector<int> seen(4, 0);
    for (int64_t i = 0; i < B; ++i) {
      INFO("T = " << T << ", sequence " << i);
      std::vector<int64_t> relevant, symbols;
      for (int64_t t = 0; t < T; ++t) {
        int64_t hot = -1, count = 0;
        double total = 0;
        for (int64_t f = 0; f < F; ++f) {
          total += at(x, i, t, T, F, f);
          if (at(x, i, t, T, F, f) == 1.0) {
            hot = f;
            ++count;
          }
        }
        REQUIRE((count == 1 && total == 1.0));
        if (t == 0) REQUIRE(hot == lrange::sym_B);
        else if (t == T - 1) REQUIRE(hot == lrange::sym_E);
        else if (hot == lrange::sym_X || hot == lrange::sym_Y) relevant.push_back(t), symbols.push_back(hot);
        else REQUIRE(hot <= lrange::sym_d);  // a distractor a..d
      }
      REQUIRE(relevant.size() == 2);
      REQUIRE(relevant[0] == b.first[size_t(i)]);
      REQUIRE(relevant[1] == b.second[size_t(i)]);
      REQUIRE((relevant[0] >= T / 10 && relevant[0] <= T / 5));
      REQUIRE((relevant[1] >= T / 2 && relevant[1] <= T * 6 / 10));
      const int64_t label = b.labels[size_t(i)];
      REQUIRE(label == lrange::order_class(symbols[0] == lrange::sym_Y, symbols[1] == lrange::sym_Y));
      ++seen[size_t(label)];
    }
    for (int c : seen) REQUIRE(c > 0);  // all four orders occur
  }
  REQUIRE(lrange::order_class(false, false) == 0);  // XX
  REQUIRE(lrange::order_class(false, true) == 1);   // XY
  REQUIRE(lrange::order_class(true, false) == 2);   // YX
  REQUIRE(lrange::order_class(true, true) == 3);    // YY
  Rng rng(1);
  REQUIRE_THROWS_AS(lrange::temporal_order_batch(rng, 4, 9), std::invalid_argument);
}

TEST_CASE("long range criteria on hand-made predictions", "[experiments][long_range]") {
  // adding: |error| < 0.04 is correct (0.039 yes, 0.041 no)
  REQUIRE(lrange::adding_accuracy({0.5, 0.539, 0.459, 0.2}, {0.5, 0.5, 0.5, 0.5}) == 0.5);
  REQUIRE(lrange::adding_accuracy({0.541}, {0.5}) == 0.0);
  std::vector<double> pred(100, 0.5), target(100, 0.5);
  pred[0] = 0.6;  // 99 of 100 right: solved (>= 99%)
  REQUIRE(lrange::adding_accuracy(pred, target) == 0.99);
  REQUIRE(lrange::solved(lrange::Task::adding, lrange::adding_accuracy(pred, target)));
  pred[1] = 0.6;  // 98%: not solved
  REQUIRE_FALSE(lrange::solved(lrange::Task::adding, lrange::adding_accuracy(pred, target)));
  REQUIRE_THROWS_AS(lrange::adding_accuracy({0.5}, {0.5, 0.5}), std::invalid_argument);

  // temporal order: argmax over 4 logits per row; solved only at error < 1%
  REQUIRE(lrange::order_accuracy({0, 1, 0, 0, /**/ 5, 1, 2, 3, /**/ 0, 0, 0, 9}, {1, 0, 2}, 4) == Approx(2.0 / 3.0));
  REQUIRE(lrange::order_accuracy({1, 1, 0, 0}, {0}, 4) == 1.0);  // ties go to the first
  REQUIRE(lrange::solved(lrange::Task::temporal_order, 0.995));
  REQUIRE_FALSE(lrange::solved(lrange::Task::temporal_order, 0.99));  // error exactly 1% is not < 1%
  REQUIRE_THROWS_AS(lrange::order_accuracy({0, 1, 2}, {0}, 4), std::invalid_argument);
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
  const auto a = lrange::heldout_set(lrange::Task::adding, 20, 10, 4, 9), b = lrange::heldout_set(lrange::Task::adding, 20, 10, 4, 9);
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

TEST_CASE("long range training: a GRU learns the temporal order at T = 20 and stops at the criterion", "[experiments][long_range]") {
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
