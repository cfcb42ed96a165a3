// Elementwise functions: gradchecks in float64 (inputs kept away from kinks), golden values,
// saturation at ±1000, edge shapes (rank 0, size-1 dims, empty), float32 vs float64, bad input.
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "testing.h"

namespace seqgrad {
namespace {

using testing::random_normal;
using testing::random_uniform;

using UnaryFn = std::function<Var(const Var&)>;

struct UnaryCase {
  const char* name;
  UnaryFn f;
  double lo, hi;              // input domain for random tests
  std::vector<double> kinks;  // points where the derivative jumps; random inputs keep 0.1 away
};

// Every unary op on an input domain where it is smooth.
const std::vector<UnaryCase>& unary_cases() {
  static const std::vector<UnaryCase> cases = {
      {"exp", [](const Var& x) { return exp(x); }, -2, 2, {}},
      {"log", [](const Var& x) { return log(x); }, 0.3, 3, {}},
      {"sqrt", [](const Var& x) { return sqrt(x); }, 0.3, 3, {}},
      {"pow3", [](const Var& x) { return pow(x, 3.0); }, -2, 2, {}},
      {"pow-1.5", [](const Var& x) { return pow(x, -1.5); }, 0.3, 3, {}},
      {"pow0.5", [](const Var& x) { return pow(x, 0.5); }, 0.3, 3, {}},
      {"pow0", [](const Var& x) { return pow(x, 0.0); }, -2, 2, {}},
      {"abs", [](const Var& x) { return abs(x); }, -2, 2, {0.0}},
      {"tanh", [](const Var& x) { return tanh(x); }, -3, 3, {}},
      {"sigmoid", [](const Var& x) { return sigmoid(x); }, -4, 4, {}},
      {"relu", [](const Var& x) { return relu(x); }, -2, 2, {0.0}},
      {"clamp", [](const Var& x) { return clamp(x, -0.5, 1.0); }, -2, 2, {-0.5, 1.0}},
  };
  return cases;
}

// Uniform values in [lo, hi) with any value within 0.1 of a kink moved 0.2 to its right.
Tensor smooth_input(const UnaryCase& c, const Shape& shape, uint64_t seed = 11) {
  Tensor t = random_uniform(shape, c.lo, c.hi, seed);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    for (double k : c.kinks)
      if (std::abs(p[i] - k) < 0.1) p[i] = k + 0.2;
  return t;
}

GradcheckFn unary(const UnaryFn& f) {
  return [f](std::span<const Var> v) { return f(v[0]); };
}

// Forward value of f at x, and d(Σ f(x))/dx.
struct ValueGrad {
  Tensor value, grad;
};
ValueGrad value_grad(const UnaryFn& f, const Tensor& x) {
  Tape tape;
  Var v = tape.variable(x);
  Var y = f(v);
  tape.backward(sum(y));
  return {y.value(), v.grad()};
}

Tensor f64(const Shape& s, std::initializer_list<double> values) { return Tensor::from(s, values, DType::f64); }

}  // namespace

TEST_CASE("unary ops pass gradcheck on random float64 inputs", "[ops][unary]") {
  for (const UnaryCase& c : unary_cases()) {
    INFO(c.name);
    REQUIRE_GRADCHECK(unary(c.f), {smooth_input(c, Shape{3, 4})});
  }
}

TEST_CASE("unary ops: golden forward values", "[ops][unary]") {
  const double inf = std::numeric_limits<double>::infinity();
  Tape t;
  auto at = [&](const Var& y, int64_t i) { return y.value().to_vector()[size_t(i)]; };
  Var x = t.constant(f64({4}, {-2.0, 0.0, 0.5, 4.0}));

  Var e = exp(x);
  CHECK(at(e, 0) == Approx(0.1353352832366127).epsilon(1e-15));
  CHECK(at(e, 1) == 1.0);
  CHECK(at(e, 3) == Approx(54.598150033144236).epsilon(1e-15));

  Var l = log(x);
  CHECK(std::isnan(at(l, 0)));  // log of a negative: NaN, no throw
  CHECK(at(l, 1) == -inf);      // log 0 = −inf
  CHECK(at(l, 2) == Approx(-0.6931471805599453).epsilon(1e-15));

  Var s = sqrt(x);
  CHECK(std::isnan(at(s, 0)));
  CHECK(at(s, 1) == 0.0);
  CHECK(at(s, 3) == 2.0);

  Var p = pow(x, 3.0);
  CHECK(at(p, 0) == -8.0);
  CHECK(at(p, 2) == 0.125);
  CHECK(std::isnan(at(pow(x, 0.5), 0)));  // non-integer power of a negative, like std::pow
  CHECK(at(pow(x, 2.0), 0) == 4.0);
  CHECK(at(pow(x, 0.0), 1) == 1.0);

  CHECK(abs(x).value().to_vector() == std::vector<double>{2.0, 0.0, 0.5, 4.0});
  CHECK(relu(x).value().to_vector() == std::vector<double>{0.0, 0.0, 0.5, 4.0});
  CHECK(clamp(x, -1.0, 1.0).value().to_vector() == std::vector<double>{-1.0, 0.0, 0.5, 1.0});

  Var th = tanh(x);
  CHECK(at(th, 0) == Approx(-0.9640275800758169).epsilon(1e-15));
  CHECK(at(th, 1) == 0.0);
  CHECK(at(th, 2) == Approx(0.46211715726000974).epsilon(1e-15));

  Var sg = sigmoid(x);
  CHECK(at(sg, 0) == Approx(0.11920292202211755).epsilon(1e-15));
  CHECK(at(sg, 1) == 0.5);
  CHECK(at(sg, 3) == Approx(0.9820137900379085).epsilon(1e-15));

  Var nan_in = t.constant(f64({2}, {std::nan(""), 3.0}));
  CHECK(std::isnan(relu(nan_in).value().to_vector()[0]));  // NaN propagates
  CHECK(std::isnan(clamp(nan_in, 0.0, 1.0).value().to_vector()[0]));
}

TEST_CASE("unary ops: golden gradients, including at kinks", "[ops][unary]") {
  Tensor x = f64({5}, {-2.0, -1.0, 0.0, 1.0, 3.0});
  CHECK(value_grad([](const Var& v) { return abs(v); }, x).grad.to_vector() ==
        std::vector<double>{-1, -1, 0, 1, 1});  // sign(x), 0 at 0
  CHECK(value_grad([](const Var& v) { return relu(v); }, x).grad.to_vector() ==
        std::vector<double>{0, 0, 0, 1, 1});  // 0 at 0
  // gradient 1 strictly inside (lo, hi): the boundaries −1 and 1 get 0
  CHECK(value_grad([](const Var& v) { return clamp(v, -1.0, 1.0); }, x).grad.to_vector() ==
        std::vector<double>{0, 0, 1, 0, 0});
  CHECK(value_grad([](const Var& v) { return clamp(v, 1.0, 1.0); }, x).value.to_vector() ==
        std::vector<double>{1, 1, 1, 1, 1});
  CHECK(value_grad([](const Var& v) { return pow(v, 2.0); }, x).grad.to_vector() ==
        std::vector<double>{-4, -2, 0, 2, 6});
  CHECK(value_grad([](const Var& v) { return pow(v, 0.0); }, x).grad.to_vector() ==
        std::vector<double>{0, 0, 0, 0, 0});  // no 0·∞ NaN at x = 0
  CHECK(value_grad([](const Var& v) { return exp(v); }, x).grad.to_vector()[2] == 1.0);
  CHECK(value_grad([](const Var& v) { return log(v); }, x).grad.to_vector()[4] == Approx(1.0 / 3.0));
  CHECK(value_grad([](const Var& v) { return sqrt(v); }, f64({1}, {4.0})).grad.item() == 0.25);
  CHECK(value_grad([](const Var& v) { return tanh(v); }, x).grad.to_vector()[2] == 1.0);
  CHECK(value_grad([](const Var& v) { return sigmoid(v); }, x).grad.to_vector()[2] == 0.25);
}

TEST_CASE("sigmoid and tanh saturate cleanly at ±1000", "[ops][unary]") {
  for (DType dt : {DType::f32, DType::f64}) {
    INFO(dtype_name(dt));
    Tensor x = Tensor::from({4}, {-1000.0, -100.0, 100.0, 1000.0}, dt);
    auto sg = value_grad([](const Var& v) { return sigmoid(v); }, x);
    CHECK(sg.value.to_vector()[0] == 0.0);
    CHECK(sg.value.to_vector()[3] == 1.0);
    CHECK(sg.value.to_vector()[2] == 1.0);
    const auto dsg = sg.grad.to_vector();  // e^−100 survives in the middle two, but nothing is NaN
    CHECK(dsg[0] == 0.0);
    CHECK(dsg[3] == 0.0);
    for (double d : dsg) CHECK((std::isfinite(d) && d >= 0.0 && d < 1e-40));
    auto th = value_grad([](const Var& v) { return tanh(v); }, x);
    CHECK(th.value.to_vector() == std::vector<double>{-1, -1, 1, 1});
    CHECK(th.grad.to_vector() == std::vector<double>{0, 0, 0, 0});
  }
}

TEST_CASE("unary ops on edge shapes: rank 0, size-1 dims, empty", "[ops][unary]") {
  for (const UnaryCase& c : unary_cases()) {
    INFO(c.name);
    REQUIRE_GRADCHECK(unary(c.f), {smooth_input(c, Shape{}, 3)});
    REQUIRE_GRADCHECK(unary(c.f), {smooth_input(c, Shape{1, 3, 1}, 5)});

    auto scalar = value_grad(c.f, smooth_input(c, Shape{}, 3));
    CHECK(scalar.value.rank() == 0);
    CHECK(scalar.grad.rank() == 0);

    auto empty = value_grad(c.f, Tensor::zeros({0, 3}, DType::f64));
    CHECK(empty.value.shape() == Shape{0, 3});
    CHECK(empty.grad.shape() == Shape{0, 3});
  }
}

TEST_CASE("unary ops: float32 forward agrees with float64", "[ops][unary]") {
  for (const UnaryCase& c : unary_cases()) {
    INFO(c.name);
    Tensor x64 = smooth_input(c, Shape{5, 7}, 17);
    Tensor x32 = x64.to(DType::f32);
    Tape t;
    Tensor y64 = c.f(t.constant(x64)).value();
    Tensor y32 = c.f(t.constant(x32)).value();
    REQUIRE(y32.dtype() == DType::f32);
    // compare against the float64 op applied to the f32-rounded input (the input rounding is not the op's)
    Tensor y64r = c.f(t.constant(x32.to(DType::f64))).value();
    auto a = y32.to_vector(), b = y64r.to_vector();
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-6).margin(1e-6));
    CHECK(max_abs_diff(y64r, y64) < 1e-5);
  }
}

TEST_CASE("where: forward with broadcasting, and gradcheck", "[ops][unary]") {
  Tape t;
  Tensor cond = f64({2, 1}, {1.0, 0.0});
  Var a = t.constant(f64({2, 3}, {1, 2, 3, 4, 5, 6}));
  Var b = t.constant(f64({3}, {-1, -2, -3}));
  Var y = where(cond, a, b);
  CHECK(y.shape() == Shape{2, 3});
  CHECK(y.value().to_vector() == std::vector<double>{1, 2, 3, -1, -2, -3});
  // any nonzero counts as true
  CHECK(where(f64({3}, {0.0, -2.0, 0.5}), b, t.constant(Tensor::scalar(9.0, DType::f64))).value().to_vector() ==
        std::vector<double>{9, -2, -3});
  // the output takes the broadcast of all three shapes, cond included
  CHECK(where(f64({4, 1, 1}, {1, 0, 1, 0}), b, t.constant(Tensor::scalar(0.0, DType::f64))).shape() == Shape{4, 1, 3});

  // gradients routed by cond and summed down broadcast axes
  Tape t2;
  Var av = t2.variable(f64({2, 3}, {1, 2, 3, 4, 5, 6}));
  Var bv = t2.variable(f64({3}, {-1, -2, -3}));
  t2.backward(sum(where(cond, av, bv)));
  CHECK(av.grad().to_vector() == std::vector<double>{1, 1, 1, 0, 0, 0});
  CHECK(bv.grad().to_vector() == std::vector<double>{1, 1, 1});

  Rng rng(5);
  Tensor c34 = Tensor::bernoulli({3, 4}, rng, 0.5, DType::f64);
  auto w = [](const Tensor& c) { return [c](std::span<const Var> v) { return where(c, v[0], v[1]); }; };
  REQUIRE_GRADCHECK(w(c34), {random_normal({3, 4}, 1), random_normal({3, 4}, 2)});
  REQUIRE_GRADCHECK(w(f64({3, 1}, {1, 0, 1})), {random_normal({3, 4}, 1), random_normal({4}, 2)});
  REQUIRE_GRADCHECK(w(c34), {random_normal({}, 1), random_normal({1, 4}, 2)});
  REQUIRE_GRADCHECK(w(Tensor::scalar(1.0, DType::f64)), {random_normal({2, 1}, 1), random_normal({3}, 2)});

  // empty
  Tape t3;
  Var e = t3.variable(Tensor::zeros({0, 3}, DType::f64));
  Var ye = where(Tensor::zeros({0, 1}, DType::f64), e, t3.variable(Tensor::zeros({3}, DType::f64)));
  CHECK(ye.shape() == Shape{0, 3});
  t3.backward(sum(ye));
  CHECK(e.grad().shape() == Shape{0, 3});
}

TEST_CASE("unary ops: bad input throws naming the op and values", "[ops][unary]") {
  Tape t;
  Var x = t.variable(Tensor::zeros({2, 3}, DType::f64));
  REQUIRE_THROWS_NAMING(clamp(x, 1.0, -1.0), "clamp", "lo (1)", "hi (-1)");
  REQUIRE_THROWS_NAMING(clamp(x, 0.5, 0.25), "clamp", "0.5", "0.25");

  Var b4 = t.variable(Tensor::zeros({4}, DType::f64));
  REQUIRE_THROWS_NAMING(where(Tensor::ones({2, 3}, DType::f64), x, b4), "where", "(2, 3)", "(4)", "not broadcastable");
  REQUIRE_THROWS_NAMING(where(Tensor::ones({4}, DType::f64), x, x), "where", "(2, 3)", "(4)");
  REQUIRE_THROWS_NAMING(where(Tensor::ones({2, 3}, DType::f32), x, x), "where", "f32", "f64");
  Var x32 = t.variable(Tensor::zeros({2, 3}, DType::f32));
  REQUIRE_THROWS_NAMING(where(Tensor::ones({2, 3}, DType::f64), x, x32), "where", "f32", "f64");
}

}  // namespace seqgrad
