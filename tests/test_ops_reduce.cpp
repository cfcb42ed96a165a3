// Reductions: gradchecks over every axis of a rank-3 tensor (negative axes, keepdim both ways, all),
// golden values, max ties and NaN, empty tensors, bad axes.
#include <cmath>
#include <vector>

#include "testing.h"

namespace seqgrad {
namespace {

using testing::random_normal;

Tensor f64(const Shape& s, std::initializer_list<double> values) { return Tensor::from(s, values, DType::f64); }

// 0, 1, ..., 23 as a (2, 3, 4) float64 tensor.
Tensor iota234() { return Tensor::arange(0, 24, 1, DType::f64).reshape({2, 3, 4}); }

}  // namespace

TEST_CASE("sum, mean and max pass gradcheck over every axis", "[ops][reduce]") {
  const Tensor x = random_normal({2, 3, 4}, 21);
  for (int axis : {0, 1, 2, -1, -2, -3}) {
    for (bool keepdim : {false, true}) {
      INFO("axis " << axis << " keepdim " << keepdim);
      REQUIRE_GRADCHECK([=](std::span<const Var> v) { return sum(v[0], axis, keepdim); }, {x});
      REQUIRE_GRADCHECK([=](std::span<const Var> v) { return mean(v[0], axis, keepdim); }, {x});
      REQUIRE_GRADCHECK([=](std::span<const Var> v) { return max(v[0], axis, keepdim); }, {x});

      Tape t;
      Var c = t.constant(x);
      const int a = axis < 0 ? axis + 3 : axis;
      const Shape expect = keepdim ? x.shape().with(a, 1) : x.shape().without(a);
      CHECK(sum(c, axis, keepdim).shape() == expect);
      CHECK(mean(c, axis, keepdim).shape() == expect);
      CHECK(max(c, axis, keepdim).shape() == expect);
    }
  }
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return sum(v[0]); }, {x});
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return mean(v[0]); }, {x});
  // reductions feeding further ops: sum then broadcast back against x
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return v[0] * mean(v[0], 1, true) - max(v[0], -1, true); }, {x});
  // rank 0 and size-1 dims
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return sum(v[0]) + mean(v[0]); }, {random_normal({}, 3)});
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return max(v[0], 1) + mean(v[0], 0, true); },
                    {random_normal({1, 1, 3}, 4)});
}

TEST_CASE("reductions: golden values", "[ops][reduce]") {
  Tape t;
  Var x = t.constant(iota234());
  Var s = sum(x);
  CHECK(s.rank() == 0);
  CHECK(s.item() == 276.0);
  CHECK(mean(x).item() == 11.5);
  CHECK(mean(x).rank() == 0);
  // sum over axis 1: y[i, k] = Σⱼ (12i + 4j + k) = 36i + 12 + 3k
  CHECK(sum(x, 1).value().to_vector() == std::vector<double>{12, 15, 18, 21, 48, 51, 54, 57});
  CHECK(sum(x, 0).value().to_vector()[5] == 5.0 + 17.0);
  CHECK(sum(x, -1, true).value().to_vector() == std::vector<double>{6, 22, 38, 54, 70, 86});
  CHECK(mean(x, 2).value().to_vector() == std::vector<double>{1.5, 5.5, 9.5, 13.5, 17.5, 21.5});
  CHECK(mean(x, 0).value().at({2, 3}) == 17.0);
  CHECK(max(x, 1).value().to_vector() == std::vector<double>{8, 9, 10, 11, 20, 21, 22, 23});
  CHECK(max(x, -3, true).value().at({0, 1, 2}) == 18.0);

  // float32 matches (sum_all accumulates f32 in double)
  Var x32 = t.constant(Tensor::arange(0, 24, 1, DType::f32).reshape({2, 3, 4}));
  CHECK(sum(x32).item() == 276.0);
  CHECK(sum(x32).dtype() == DType::f32);
  CHECK(mean(x32, 2).value().to_vector() == std::vector<double>{1.5, 5.5, 9.5, 13.5, 17.5, 21.5});

  // gradients: sum → ones, mean → 1/n, max → one-hot at the maximum
  Tape t2;
  Var v = t2.variable(iota234());
  t2.backward(sum(sum(v, 1)) + sum(mean(v, 2)) + sum(max(v, 0)));
  // every element gets 1 + 1/4, and the second half (the max along axis 0) one more
  auto g = v.grad().to_vector();
  for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == (i < 12 ? 1.25 : 2.25));
}

TEST_CASE("max: ties go to the first maximum, NaN propagates", "[ops][reduce]") {
  Tape t;
  Var x = t.variable(f64({2, 4}, {1, 3, 3, 2, 5, 5, 5, 5}));
  Var m = max(x, 1);
  CHECK(m.value().to_vector() == std::vector<double>{3, 5});
  t.backward(sum(m));
  CHECK(x.grad().to_vector() == std::vector<double>{0, 1, 0, 0, 1, 0, 0, 0});

  Tape t2;
  Var y = t2.variable(f64({3, 2}, {7, 1, 7, 1, 2, 1}));  // ties along axis 0 in both columns
  t2.backward(sum(max(y, 0)));
  CHECK(y.grad().to_vector() == std::vector<double>{1, 1, 0, 0, 0, 0});

  Tape t3;
  const double nan = std::nan("");
  Var z = t3.variable(f64({2, 3}, {1, nan, 5, nan, 2, nan}));
  Var mz = max(z, 1);
  CHECK(std::isnan(mz.value().to_vector()[0]));
  CHECK(std::isnan(mz.value().to_vector()[1]));
  t3.backward(sum(mz));
  CHECK(z.grad().to_vector() == std::vector<double>{0, 1, 0, 1, 0, 0});  // to the first NaN
  CHECK(max(t3.constant(f64({3}, {-1, -0.5, -2})), 0).item() == -0.5);
}

TEST_CASE("reductions accumulate into existing gradients (fan-out)", "[ops][reduce]") {
  Tape t;
  Var x = t.variable(f64({2, 2}, {1, 4, 3, 2}));
  t.backward(sum(x) + 2.0 * mean(x) + sum(max(x, 1)) + sum(max(x, 0)));
  // 1 (sum) + 2·¼ (2·mean) + one-hot row max {4, 3} + one-hot column max {3, 4}
  CHECK(x.grad().to_vector() == std::vector<double>{1.5, 3.5, 3.5, 1.5});
}

TEST_CASE("reductions of empty tensors", "[ops][reduce]") {
  Tape t;
  Var x = t.variable(Tensor::zeros({0, 3}, DType::f64));
  CHECK(sum(x).item() == 0.0);
  CHECK(std::isnan(mean(x).item()));  // like PyTorch: mean of nothing is NaN, no crash
  Var m0 = mean(x, 0);
  CHECK(m0.shape() == Shape{3});
  for (double v : m0.value().to_vector()) CHECK(std::isnan(v));
  Var m1 = mean(x, 1, true);
  CHECK(m1.shape() == Shape{0, 1});
  CHECK(sum(x, 0).value().to_vector() == std::vector<double>{0, 0, 0});
  CHECK(max(x, 1).shape() == Shape{0});
  t.backward(sum(x) + sum(sum(x, 0)) + sum(max(x, 1)) + sum(mean(x, 1)));
  CHECK(x.grad().shape() == Shape{0, 3});
}

TEST_CASE("reductions: bad axes throw naming the op and the shape", "[ops][reduce]") {
  Tape t;
  Var x = t.variable(Tensor::zeros({2, 3, 4}, DType::f64));
  REQUIRE_THROWS_NAMING(sum(x, 3), "sum", "axis 3", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(sum(x, -4, true), "sum", "axis -4", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(mean(x, 3), "mean", "axis 3", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(mean(x, -4), "mean", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(max(x, 5), "max", "axis 5", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(max(t.variable(Tensor::zeros({}, DType::f64)), 0), "max", "()");
  REQUIRE_THROWS_NAMING(max(t.variable(Tensor::zeros({2, 0}, DType::f64)), 1), "max", "size 0", "(2, 0)");
}

}  // namespace seqgrad
