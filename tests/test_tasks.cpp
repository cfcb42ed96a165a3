// The synthetic tasks (tasks/tasks.h): each generator's shapes, the relevant inputs at their documented
// positions, targets and labels; the criteria on hand-made predictions; argument errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "tasks/tasks.h"

using namespace seqgrad;

namespace {

double at(const std::vector<double>& x, int64_t b, int64_t t, int64_t T, int64_t F, int64_t f) {
  return x[size_t((b * T + t) * F + f)];
}

// The one-hot index at (b, t) of x (B, T, F); fails unless exactly one entry is 1 and the rest 0.
int64_t hot_index(const std::vector<double>& x, int64_t b, int64_t t, int64_t T, int64_t F) {
  int64_t hot = -1, ones = 0;
  double total = 0;
  for (int64_t f = 0; f < F; ++f) {
    total += at(x, b, t, T, F, f);
    if (at(x, b, t, T, F, f) == 1.0) hot = f, ++ones;
  }
  REQUIRE((ones == 1 && total == 1.0));
  return hot;
}

}  // namespace

TEST_CASE("tasks: adding problem, one marker in each half, target the sum", "[tasks]") {
  for (int64_t T : {2, 7, 100}) {
    Rng rng(5);
    const int64_t B = 300;
    const tasks::Batch b = tasks::adding_problem(rng, B, T);
    REQUIRE(b.x.shape() == Shape{B, T, 2});
    REQUIRE(b.target.shape() == Shape{B, 1});
    const std::vector<double> x = b.x.to_vector(), target = b.target.to_vector();
    std::set<int64_t> firsts, seconds;
    for (int64_t i = 0; i < B; ++i) {
      INFO("T = " << T << ", sequence " << i);
      std::vector<int64_t> marked;
      double sum = 0;
      for (int64_t t = 0; t < T; ++t) {
        const double v = at(x, i, t, T, 2, 0), m = at(x, i, t, T, 2, 1);
        REQUIRE((v >= 0.0 && v < 1.0));
        if (m == 1.0) marked.push_back(t), sum += v;
        else REQUIRE(m == 0.0);
      }
      REQUIRE(marked == std::vector<int64_t>{b.first[size_t(i)], b.second[size_t(i)]});
      REQUIRE(marked[0] < T / 2);
      REQUIRE(marked[1] >= T / 2);
      REQUIRE(target[size_t(i)] == Approx(sum).margin(1e-6));  // f32 tensor
      firsts.insert(marked[0]), seconds.insert(marked[1]);
    }
    REQUIRE(firsts.size() == size_t(T / 2));  // every position of each half occurs
    REQUIRE(seconds.size() == size_t(T - T / 2));
  }
  Rng rng(1);
  REQUIRE_THROWS_WITH(tasks::adding_problem(rng, 4, 1), Catch::Contains("adding_problem") && Catch::Contains("T = 1"));
}

TEST_CASE("tasks: copy task, data then delimiter, recall at the end", "[tasks]") {
  for (auto [delay, length, alphabet] : {std::tuple{1, 1, 1}, {5, 3, 4}, {100, 10, 8}}) {
    INFO("delay " << delay << ", length " << length << ", alphabet " << alphabet);
    Rng rng(9);
    const int64_t B = 50, T = delay + 2 * length, F = alphabet + 2;
    const tasks::Batch b = tasks::copy_task(rng, B, delay, length, alphabet);
    REQUIRE(b.x.shape() == Shape{B, T, F});
    REQUIRE(b.labels.size() == size_t(B * T));
    REQUIRE_FALSE(b.target.defined());
    const std::vector<double> x = b.x.to_vector();
    std::set<int64_t> data_seen;
    for (int64_t i = 0; i < B; ++i)
      for (int64_t t = 0; t < T; ++t) {
        const int64_t in = hot_index(x, i, t, T, F), label = b.labels[size_t(i * T + t)];
        if (t < length) {
          REQUIRE((in >= 1 && in <= alphabet));                     // data
          REQUIRE(b.labels[size_t(i * T + T - length + t)] == in);  // recalled at the end, in order
          data_seen.insert(in);
        } else {
          REQUIRE(in == (t == length + delay - 1 ? alphabet + 1 : 0));  // the delimiter, else blank
        }
        if (t < T - length) REQUIRE(label == 0);
      }
    REQUIRE(data_seen.size() == size_t(alphabet));  // every data symbol is drawn
  }
  REQUIRE(tasks::copy_baseline_loss(100, 10, 8) == Approx(10 * std::log(8.0) / 120));
  Rng rng(1);
  REQUIRE_THROWS_WITH(tasks::copy_task(rng, 2, 0), Catch::Contains("copy_task") && Catch::Contains("delay = 0"));
}

TEST_CASE("tasks: H&S adding problem, two markers in the first half, one in the first ten steps, paper's target",
          "[tasks]") {
  for (int64_t T : {4, 12, 50, 101}) {
    Rng rng(7);
    const int64_t B = 200;
    const tasks::Batch b = tasks::adding_problem_hs97(rng, B, T);
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
  REQUIRE(tasks::adding_target_hs97(1.0, 1.0) == 1.0);
  REQUIRE(tasks::adding_target_hs97(-1.0, -1.0) == 0.0);
  REQUIRE(tasks::adding_target_hs97(0.2, -0.6) == Approx(0.4));
  Rng rng(1);
  REQUIRE_THROWS_AS(tasks::adding_problem_hs97(rng, 4, 3), std::invalid_argument);
  REQUIRE_THROWS_AS(tasks::adding_problem_hs97(rng, 0, 50), std::invalid_argument);
}

TEST_CASE("tasks: H&S adding problem, marker positions cover their ranges", "[tasks]") {
  Rng rng(11);
  const int64_t T = 40;
  const tasks::Batch b = tasks::adding_problem_hs97(rng, 2000, T);
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

TEST_CASE("tasks: temporal order, one-hot, B and E at the ends, X/Y at the documented positions", "[tasks]") {
  for (int64_t T : {10, 50, 100, 203}) {
    Rng rng(3);
    const int64_t B = 200, F = tasks::num_symbols;
    const tasks::Batch b = tasks::temporal_order(rng, B, T);
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
        if (t == 0) REQUIRE(hot == tasks::sym_B);
        else if (t == T - 1) REQUIRE(hot == tasks::sym_E);
        else if (hot == tasks::sym_X || hot == tasks::sym_Y) relevant.push_back(t), symbols.push_back(hot);
        else REQUIRE(hot <= tasks::sym_d);  // a distractor a..d
      }
      REQUIRE(relevant.size() == 2);
      REQUIRE(relevant[0] == b.first[size_t(i)]);
      REQUIRE(relevant[1] == b.second[size_t(i)]);
      REQUIRE((relevant[0] >= T / 10 && relevant[0] <= T / 5));
      REQUIRE((relevant[1] >= T / 2 && relevant[1] <= T * 6 / 10));
      const int64_t label = b.labels[size_t(i)];
      REQUIRE(label == tasks::order_class(symbols[0] == tasks::sym_Y, symbols[1] == tasks::sym_Y));
      ++seen[size_t(label)];
    }
    for (int c : seen) REQUIRE(c > 0);  // all four orders occur
  }
  REQUIRE(tasks::order_class(false, false) == 0);  // XX
  REQUIRE(tasks::order_class(false, true) == 1);   // XY
  REQUIRE(tasks::order_class(true, false) == 2);   // YX
  REQUIRE(tasks::order_class(true, true) == 3);    // YY
  Rng rng(1);
  REQUIRE_THROWS_AS(tasks::temporal_order(rng, 4, 9), std::invalid_argument);
}

TEST_CASE("tasks: adding and classification criteria on hand-made predictions", "[tasks]") {
  // adding: |error| < 0.04 is correct (0.039 yes, 0.041 no)
  REQUIRE(tasks::adding_accuracy({0.5, 0.539, 0.459, 0.2}, {0.5, 0.5, 0.5, 0.5}) == 0.5);
  REQUIRE(tasks::adding_accuracy({0.541}, {0.5}) == 0.0);
  std::vector<double> pred(100, 0.5), target(100, 0.5);
  pred[0] = 0.6;
  REQUIRE(tasks::adding_accuracy(pred, target) == 0.99);
  REQUIRE_THROWS_AS(tasks::adding_accuracy({0.5}, {0.5, 0.5}), std::invalid_argument);
  // argmax over 4 logits per row, ties to the first
  REQUIRE(tasks::classification_accuracy({0, 1, 0, 0, /**/ 5, 1, 2, 3, /**/ 0, 0, 0, 9}, {1, 0, 2}, 4) ==
          Approx(2.0 / 3.0));
  REQUIRE(tasks::classification_accuracy({1, 1, 0, 0}, {0}, 4) == 1.0);
  REQUIRE_THROWS_AS(tasks::classification_accuracy({0, 1, 2}, {0}, 4), std::invalid_argument);
}
