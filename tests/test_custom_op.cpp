// A differentiable op written outside autograd/, the way a user adds one (README, "Writing a new
// op"): forward with the public kernels, one Tape::record, a backward that ADDS into its input's
// gradient. Checked like every built-in op: values, float64 finite differences, fan-out, no-grad
// mode, and anomaly detection naming it.
#include <cmath>
#include <limits>

#include "autograd/kernels.h"
#include "autograd/ops.h"
#include "testing.h"

using namespace seqgrad;
using Catch::Contains;

namespace {

// ---- the README's example, verbatim ----
// y = x / (1 + |x|);  dx += g / (1 + |x|)²
Var softsign(const Var& x) {
  Tensor y = kernels::map(x.value(), [](auto v) { return v / (1 + std::abs(v)); });
  return x.tape().record("softsign", std::move(y), {x}, [x](GradContext& g) {
    auto times_derivative = [](auto gy, auto v) { return gy / ((1 + std::abs(v)) * (1 + std::abs(v))); };
    g.accumulate(x, kernels::map2(g.out(), x.value(), times_derivative));
  });
}
// ---- end of the example ----

}  // namespace

TEST_CASE("custom op: softsign values and one tape node", "[custom_op]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({2, 3}, {-3.0, -0.5, 0.0, 0.5, 1.0, 9.0}, DType::f64));
  const size_t before = tape.size();
  Var y = softsign(x);
  CHECK(tape.size() == before + 1);
  CHECK(std::string(y.op()) == "softsign");
  CHECK(y.shape() == Shape{2, 3});
  const std::vector<double> got = y.value().to_vector();
  const std::vector<double> want{-0.75, -0.5 / 1.5, 0.0, 0.5 / 1.5, 0.5, 0.9};
  for (size_t i = 0; i < want.size(); ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-15));

  Var f = softsign(tape.variable(Tensor::from({2}, {-1.0, 3.0})));  // float32 through the same lambdas
  CHECK(f.dtype() == DType::f32);
  CHECK(f.value().at({1}) == Approx(0.75));
}

TEST_CASE("custom op: softsign passes the float64 gradient check", "[custom_op][gradcheck]") {
  const Tensor x = testing::random_normal({3, 4}, 11);
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return softsign(v[0]); }, {x});
  // Composed with built-in ops and with itself; x reaches the loss by three paths.
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return softsign(softsign(v[0]) * v[0]) + tanh(v[0]); }, {x});
}

TEST_CASE("custom op: backward accumulates into an input used twice", "[custom_op]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({3}, {-2.0, 0.0, 1.0}, DType::f64));
  tape.backward(sum(softsign(x)) + sum(softsign(x) * 3.0));
  const std::vector<double> g = x.grad().to_vector();
  const std::vector<double> want{4.0 / 9.0, 4.0, 1.0};  // (1 + 3) / (1 + |x|)²
  for (size_t i = 0; i < want.size(); ++i) CHECK(g[i] == Approx(want[i]).epsilon(1e-15));
}

TEST_CASE("custom op: no backward is recorded without gradients", "[custom_op]") {
  Tape tape;
  CHECK_FALSE(softsign(tape.constant(Tensor::ones({2}))).requires_grad());
  Var x = tape.variable(Tensor::ones({2}));
  CHECK(softsign(x).requires_grad());
  NoGradGuard no_grad;
  CHECK_FALSE(softsign(x).requires_grad());
}

TEST_CASE("custom op: anomaly detection names the op and its label", "[custom_op][anomaly]") {
  Tape tape;
  tape.set_anomaly_detection(true);
  const double inf = std::numeric_limits<double>::infinity();
  Var x = tape.variable(Tensor::from({2, 2}, {1.0, 2.0, inf, 4.0}, DType::f64));  // inf / (1 + inf) = nan
  std::string message = "<no anomaly>";
  try {
    OpLabel label(tape, "my layer");
    softsign(x);
  } catch (const AnomalyError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Contains("op 'softsign'") && Contains("nan at element 2") && Contains("inputs: f64 (2, 2)") &&
                          Contains("my layer (test_custom_op.cpp:"));
}
