// Broadcasting arithmetic: gradchecks with equal and broadcast shapes, fan-out, golden values,
// scalar ops and operators, and bad shapes/dtypes.
#include <vector>

#include "testing.h"

namespace seqgrad {
namespace {

using testing::random_normal;
using testing::random_uniform;

Tensor f64(const Shape& s, std::initializer_list<double> values) { return Tensor::from(s, values, DType::f64); }

using BinaryFn = Var (*)(const Var&, const Var&);
struct BinaryCase {
  const char* name;
  BinaryFn f;
};
const BinaryCase kBinary[] = {{"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}};

GradcheckFn binary(BinaryFn f) {
  return [f](std::span<const Var> v) { return f(v[0], v[1]); };
}

// Pairs of broadcast-compatible shapes; b's values stay in [0.5, 2) so div is smooth.
struct ShapePair {
  Shape a, b;
};
const ShapePair kShapes[] = {
    {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{4}, {3, 4}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {3, 1}},    {{3, 1}, {2, 3, 4}},
    {{}, {3, 4}},     {{3, 4}, {}},  {{}, {}},      {{1}, {}},        {{2, 1, 4}, {1, 3, 1}}, {{1, 1}, {2, 3}},
};

}  // namespace

TEST_CASE("binary ops pass gradcheck with equal and broadcast shapes", "[ops][elementwise]") {
  for (const BinaryCase& c : kBinary) {
    for (const ShapePair& s : kShapes) {
      INFO(c.name << " " << s.a.str() << " with " << s.b.str());
      Tensor a = random_normal(s.a, 31), b = random_uniform(s.b, 0.5, 2.0, 32);
      REQUIRE_GRADCHECK(binary(c.f), {a, b});
      Tape t;
      CHECK(c.f(t.constant(a), t.constant(b)).shape() == broadcast_shapes(s.a, s.b, "test"));
    }
  }
}

TEST_CASE("unary arithmetic and operators pass gradcheck", "[ops][elementwise]") {
  const Tensor x = random_normal({3, 4}, 41), y = random_uniform({4}, 0.5, 2.0, 42);
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return neg(v[0]); }, {x});
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return add_scalar(v[0], 2.5); }, {x});
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return mul_scalar(v[0], -1.5); }, {x});
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return -v[0] + v[1] - v[0] * v[1] / v[1]; }, {x, y});
  REQUIRE_GRADCHECK(
      [](std::span<const Var> v) {
        return (2.0 * v[0] + 1.0) * (v[0] * 3.0 - 0.5) / 4.0 + (1.0 - v[1]) + (v[1] - 2.0);
      },
      {x, y});
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return neg(v[0]) * 2.0; }, {random_normal({}, 43)});
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return add_scalar(v[0], 1.0) * v[0]; },
                    {random_normal({1, 3, 1}, 44)});
}

TEST_CASE("fan-out accumulates: x*x, x+x, x/x", "[ops][elementwise]") {
  Tape t;
  Var x = t.variable(f64({3}, {-1.5, 0.0, 2.0}));
  t.backward(sum(x * x));
  CHECK(x.grad().to_vector() == std::vector<double>{-3.0, 0.0, 4.0});

  Tape t2;
  Var z = t2.variable(f64({3}, {-1.5, 0.0, 2.0}));
  t2.backward(sum(z + z - z * 0.5));
  CHECK(z.grad().to_vector() == std::vector<double>{1.5, 1.5, 1.5});

  Tape t3;
  Var w = t3.variable(f64({2}, {3.0, -2.0}));
  t3.backward(sum(w / w + w - w));
  CHECK(w.grad().to_vector() == std::vector<double>{0.0, 0.0});

  REQUIRE_GRADCHECK([](std::span<const Var> v) { return v[0] * v[0] * v[0] + v[0] / (v[0] * v[0]); },
                    {random_uniform({2, 3}, 0.5, 2.0, 45)});
  // broadcast fan-out: the (4,) operand is used against every row, twice
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return v[0] * v[1] + v[1]; },
                    {random_normal({3, 4}, 46), random_normal({4}, 47)});
}

TEST_CASE("elementwise ops: golden values", "[ops][elementwise]") {
  Tape t;
  Var a = t.constant(f64({2, 3}, {1, 2, 3, 4, 5, 6}));
  Var r = t.constant(f64({3}, {10, 20, 40}));
  Var c = t.constant(f64({2, 1}, {2, -1}));
  CHECK((a + r).value().to_vector() == std::vector<double>{11, 22, 43, 14, 25, 46});
  CHECK((a - r).value().to_vector() == std::vector<double>{-9, -18, -37, -6, -15, -34});
  CHECK((r - a).value().to_vector() == std::vector<double>{9, 18, 37, 6, 15, 34});
  CHECK((a * c).value().to_vector() == std::vector<double>{2, 4, 6, -4, -5, -6});
  CHECK((a / c).value().to_vector() == std::vector<double>{0.5, 1, 1.5, -4, -5, -6});
  CHECK((c * r).shape() == Shape{2, 3});
  CHECK((c * r).value().to_vector() == std::vector<double>{20, 40, 80, -10, -20, -40});
  CHECK((-a).value().to_vector() == std::vector<double>{-1, -2, -3, -4, -5, -6});
  CHECK((a + 0.5).value().to_vector() == std::vector<double>{1.5, 2.5, 3.5, 4.5, 5.5, 6.5});
  CHECK((10.0 - a).value().to_vector() == std::vector<double>{9, 8, 7, 6, 5, 4});
  CHECK((a - 1.0).value().to_vector() == std::vector<double>{0, 1, 2, 3, 4, 5});
  CHECK((a * 2.0).value().to_vector() == std::vector<double>{2, 4, 6, 8, 10, 12});
  CHECK((a / 4.0).value().to_vector() == std::vector<double>{0.25, 0.5, 0.75, 1, 1.25, 1.5});
  Var s = t.constant(Tensor::scalar(3.0, DType::f64));
  CHECK((s * s).rank() == 0);
  CHECK((s * s).item() == 9.0);
  CHECK((a - s).value().to_vector() == std::vector<double>{-2, -1, 0, 1, 2, 3});

  // float32 keeps its dtype and values
  Var a32 = t.constant(Tensor::from({2}, {1.5, -2.0}, DType::f32));
  Var b32 = t.constant(Tensor::from({2}, {0.5, 4.0}, DType::f32));
  CHECK((a32 * b32 + a32 / b32).dtype() == DType::f32);
  CHECK((a32 * b32 + a32 / b32).value().to_vector() == std::vector<double>{3.75, -8.5});

  // golden gradients with broadcasting: d/dr Σ (a ⊙ r) = column sums of a; d/dc Σ (a / c) = −Σ_row a / c²
  Tape t2;
  Var av = t2.variable(f64({2, 3}, {1, 2, 3, 4, 5, 6}));
  Var rv = t2.variable(f64({3}, {10, 20, 40}));
  Var cv = t2.variable(f64({2, 1}, {2, -1}));
  t2.backward(sum(av * rv + av / cv));
  CHECK(rv.grad().to_vector() == std::vector<double>{5, 7, 9});
  CHECK(cv.grad().to_vector() == std::vector<double>{-6.0 / 4.0, -15.0});
  CHECK(av.grad().to_vector() == std::vector<double>{10.5, 20.5, 40.5, 9, 19, 39});
}

TEST_CASE("elementwise ops on empty tensors", "[ops][elementwise]") {
  Tape t;
  Var x = t.variable(Tensor::zeros({0, 3}, DType::f64));
  Var r = t.variable(Tensor::ones({3}, DType::f64));
  Var y = (x * r + x / r - r) * 2.0 + 1.0;
  CHECK(y.shape() == Shape{0, 3});
  t.backward(sum(-y));
  CHECK(x.grad().shape() == Shape{0, 3});
  CHECK(r.grad().to_vector() == std::vector<double>{0, 0, 0});
}

TEST_CASE("elementwise ops: bad shapes and dtypes throw naming the op", "[ops][elementwise]") {
  Tape t;
  Var a = t.variable(Tensor::zeros({2, 3}, DType::f64));
  Var b = t.variable(Tensor::zeros({4}, DType::f64));
  REQUIRE_THROWS_NAMING(add(a, b), "add: shapes (2, 3) and (4", "are not broadcastable");
  REQUIRE_THROWS_NAMING(sub(a, b), "sub", "(2, 3)", "(4", "not broadcastable");
  REQUIRE_THROWS_NAMING(a * b, "mul", "(2, 3)", "(4", "not broadcastable");
  REQUIRE_THROWS_NAMING(b / a, "div", "(4", "(2, 3)", "not broadcastable");
  REQUIRE_THROWS_NAMING(a + t.variable(Tensor::zeros({3, 3}, DType::f64)), "add", "(2, 3)", "(3, 3)");

  Var a32 = t.variable(Tensor::zeros({2, 3}, DType::f32));
  REQUIRE_THROWS_NAMING(add(a, a32), "add", "f64", "f32");
  REQUIRE_THROWS_NAMING(a32 - a, "sub", "f32", "f64");
  REQUIRE_THROWS_NAMING(mul(a32, b), "mul", "f32", "f64");
  REQUIRE_THROWS_NAMING(div(a, a32), "div", "f64", "f32");

  Tape other;
  REQUIRE_THROWS_NAMING(a + other.variable(Tensor::zeros({2, 3}, DType::f64)), "add", "different tapes");
  REQUIRE_THROWS_NAMING(add(a, Var()), "default-constructed");
}

}  // namespace seqgrad
