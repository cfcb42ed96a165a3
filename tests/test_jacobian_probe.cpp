// nn::state_jacobians: the Elman closed form diag(1 − h_t²)·W_hh, exact singular values of known
// recurrent matrices, LSTM's (h, c) Jacobian against central differences, thread-count determinism.
#include <oneapi/tbb/global_control.h>

#include <cmath>

#include "autograd/jacobian.h"
#include "nn/cells.h"
#include "nn/init.h"
#include "nn/jacobian_probe.h"
#include "nn/recurrent.h"
#include "testing.h"

using namespace seqgrad;
using namespace seqgrad::nn;
using seqgrad::testing::random_normal;

namespace {

// The states h_t (and c_t) of an ordinary float64 unroll of `cell` over x (T, I), batch 1.
UnrollResult reference_unroll(Tape& tape, Cell& cell, const Tensor& x) {
  return unroll(cell, tape.constant(x.reshape({1, x.size(0), x.size(1)})));
}

}  // namespace

TEST_CASE("state_jacobians: Elman tanh gives diag(1 - h_t^2) W_hh at every step", "[nn][jacobian]") {
  Rng rng(1);
  Elman cell(3, 5, rng);  // float32, as trained
  const Tensor x = random_normal({6, 3}, 2);
  const Tensor W_before = cell.weight_hh.value.clone();
  cell.weight_hh.grad = Tensor::full({5, 5}, 7.0);
  const std::vector<StepJacobian> steps = state_jacobians(cell, x);
  REQUIRE(steps.size() == 6);

  // The cell is untouched: dtype, values and gradients.
  CHECK(cell.dtype() == DType::f32);
  CHECK(bitwise_equal(cell.weight_hh.value, W_before));
  CHECK(bitwise_equal(cell.weight_hh.grad, Tensor::full({5, 5}, 7.0)));

  cell.to(DType::f64);  // the reference in float64
  Tape tape;
  const UnrollResult ref = reference_unroll(tape, cell, x);
  const Tensor& W = cell.weight_hh.value;
  for (size_t t = 0; t < steps.size(); ++t) {
    INFO("t = " << t);
    const Tensor& J = steps[t].jacobian;
    REQUIRE(J.shape() == Shape{5, 5});
    CHECK(max_abs_diff(steps[t].state, ref.h[t].value().reshape({5})) < 1e-15);
    double worst = 0;
    for (int64_t i = 0; i < 5; ++i) {
      const double h = steps[t].state.at({i});
      for (int64_t j = 0; j < 5; ++j) worst = std::max(worst, std::abs(J.at({i, j}) - (1 - h * h) * W.at({i, j})));
    }
    CHECK(worst < 1e-15);
    CHECK(steps[t].singular_values == singular_values(J));
  }
}

TEST_CASE("state_jacobians: singular values of known recurrent matrices", "[nn][jacobian]") {
  // W_ih = 0, b = 0, h_{−1} = 0: every h_t = tanh(0) = 0, so J_t = W_hh exactly.
  Rng rng(3);
  Elman cell(2, 4, rng);
  cell.to(DType::f64);
  cell.weight_ih.value.fill(0.0);
  cell.bias.value.fill(0.0);
  const Tensor x = random_normal({3, 2}, 4);
  SECTION("diagonal W_hh") {
    cell.weight_hh.value = Tensor::from({4, 4}, {0.5, 0, 0, 0, 0, -2, 0, 0, 0, 0, 1.25, 0, 0, 0, 0, 0.1}, DType::f64);
    for (const StepJacobian& s : state_jacobians(cell, x))
      CHECK(s.singular_values == std::vector<double>{2, 1.25, 0.5, 0.1});
  }
  SECTION("diagonal times orthogonal: rows orthogonal, columns not") {
    Tensor Q = Tensor::zeros({4, 4}, DType::f64);
    init::orthogonal(Q, rng);
    const std::vector<double> d = {0.3, 3.0, 1.0, 0.7};
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 4; ++j) Q.set({i, j}, d[size_t(i)] * Q.at({i, j}));  // diag(d) · Q
    cell.weight_hh.value = Q;
    for (const StepJacobian& s : state_jacobians(cell, x)) {
      REQUIRE(s.singular_values.size() == 4);
      const std::vector<double> want = {3.0, 1.0, 0.7, 0.3};
      for (size_t i = 0; i < 4; ++i) CHECK(std::abs(s.singular_values[i] - want[i]) < 1e-14);
    }
  }
}

TEST_CASE("state_jacobians: LSTM's (h, c) Jacobian matches central differences of one step", "[nn][jacobian]") {
  Rng rng(5);
  Lstm cell(3, 4, rng, 1.0);
  cell.to(DType::f64);
  const Tensor x = random_normal({3, 3}, 6);
  const StateValues initial{random_normal({1, 4}, 7), random_normal({4}, 8)};
  const std::vector<StepJacobian> steps = state_jacobians(cell, x, initial);
  Tape ref_tape;
  const UnrollResult ref = unroll(cell, ref_tape.constant(x.reshape({1, 3, 3})),
                                  {ref_tape.constant(initial.h), ref_tape.constant(initial.c.reshape({1, 4}))});
  // s_t = [h_t; c_t]; step t = 2 from s_1, by central differences on every component of s_1.
  std::vector<double> s1 = steps[1].state.to_vector();
  auto step_from = [&](const std::vector<double>& s) {
    Tape tape;
    const Tensor h = Tensor::from({1, 4}, std::span<const double>(s.data(), 4), DType::f64);
    const Tensor c = Tensor::from({1, 4}, std::span<const double>(s.data() + 4, 4), DType::f64);
    const Tensor x2 = Tensor::from({1, 3}, {x.at({2, 0}), x.at({2, 1}), x.at({2, 2})}, DType::f64);
    const State next = cell.step(tape.constant(x2), {tape.constant(h), tape.constant(c)});
    std::vector<double> out = next.h.value().to_vector(), cv = next.c.value().to_vector();
    out.insert(out.end(), cv.begin(), cv.end());
    return out;
  };
  const Tensor& J = steps[2].jacobian;
  REQUIRE(J.shape() == Shape{8, 8});
  double worst = 0;
  for (int64_t j = 0; j < 8; ++j) {
    std::vector<double> up = s1, down = s1;
    up[size_t(j)] += 1e-6;
    down[size_t(j)] -= 1e-6;
    const std::vector<double> fu = step_from(up), fd = step_from(down);
    for (int64_t i = 0; i < 8; ++i)
      worst = std::max(worst, std::abs(J.at({i, j}) - (fu[size_t(i)] - fd[size_t(i)]) / 2e-6));
  }
  CHECK(worst < 1e-8);
  for (size_t t = 0; t < 3; ++t) {  // the states are the unroll's, h then c
    const std::vector<double> s = steps[t].state.to_vector();
    const std::vector<double> h = ref.h[t].value().to_vector(), c = ref.c[t].value().to_vector();
    for (size_t i = 0; i < 4; ++i) {
      CHECK(std::abs(s[i] - h[i]) < 1e-15);
      CHECK(std::abs(s[4 + i] - c[i]) < 1e-15);
    }
  }
}

TEST_CASE("state_jacobians: bitwise identical at 1 and 2 threads", "[nn][jacobian][determinism]") {
  Rng rng(9);
  Gru cell(8, 48, rng, GruForm::reset_after);
  const Tensor x = random_normal({5, 8}, 10);
  auto run = [&](int threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(threads));
    return state_jacobians(cell, x);
  };
  const auto one = run(1), two = run(2);
  REQUIRE(one.size() == two.size());
  for (size_t t = 0; t < one.size(); ++t) {
    CHECK(bitwise_equal(one[t].jacobian, two[t].jacobian));
    CHECK(one[t].singular_values == two[t].singular_values);
  }
}

TEST_CASE("state_jacobians: bad input names the function and the shapes", "[nn][jacobian]") {
  Rng rng(11);
  Lstm cell(3, 4, rng);
  REQUIRE_THROWS_NAMING(state_jacobians(cell, random_normal({2, 5, 3})), "state_jacobians", "(2, 5, 3)", "(T, 3)");
  REQUIRE_THROWS_NAMING(state_jacobians(cell, random_normal({5, 2})), "state_jacobians", "(5, 2)");
  REQUIRE_THROWS_NAMING(state_jacobians(cell, random_normal({5, 3}), {random_normal({2, 4}), Tensor()}),
                        "state_jacobians", "initial h", "(2, 4)");
  REQUIRE_THROWS_NAMING(state_jacobians(cell, random_normal({5, 3}), {random_normal({4, 1}), Tensor()}),
                        "state_jacobians", "initial h", "(4, 1)");
  REQUIRE_THROWS_NAMING(state_jacobians(cell, random_normal({5, 3}), {Tensor(), random_normal({5})}), "state_jacobians",
                        "initial c", "(5)");
}
