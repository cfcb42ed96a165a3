// The fast paths behind the benchmarks: the vectorised float tanh / sigmoid kernels against libm,
// and reshape's backward handing its gradient on without a copy.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "autograd/kernels.h"
#include "testing.h"

using namespace seqgrad;
using namespace seqgrad::testing;

TEST_CASE("float tanh and sigmoid kernels stay within 2 ulp of libm", "[ops][unary]") {
  std::vector<float> x;
  for (double v = -40; v < 40; v += 0.00731) x.push_back(float(v));
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-8f, 0.625f, std::nextafter(0.625f, 1.0f), 88.0f, -88.0f, 1e6f})
    x.push_back(v);
  std::vector<float> t(x.size()), s(x.size());
  kernels::tanh_f32(x.data(), t.data(), int64_t(x.size()));
  kernels::sigmoid_f32(x.data(), s.data(), int64_t(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref_t = std::tanh(double(x[i])), ref_s = 1 / (1 + std::exp(-double(x[i])));
    INFO("x = " << x[i]);
    REQUIRE(std::fabs(t[i] - ref_t) <= 2.5 * std::fabs(ref_t) * std::numeric_limits<float>::epsilon() + 1e-45);
    if (x[i] > -87) REQUIRE(std::fabs(s[i] - ref_s) <= 2.5 * ref_s * std::numeric_limits<float>::epsilon());
    else REQUIRE(s[i] <= 1e-37f);
  }
  const float special[] = {std::numeric_limits<float>::quiet_NaN(), INFINITY, -INFINITY};
  float ts[3], ss[3];
  kernels::tanh_f32(special, ts, 3);
  kernels::sigmoid_f32(special, ss, 3);
  REQUIRE(std::isnan(ts[0]));
  REQUIRE(std::isnan(ss[0]));
  REQUIRE(ts[1] == 1.0f);
  REQUIRE(ts[2] == -1.0f);
  REQUIRE(ss[1] == 1.0f);
  REQUIRE(ss[2] == 0.0f);
}

TEST_CASE("float tanh and sigmoid kernels: tiny and denormal inputs are exact, never computed on denormals",
          "[ops][unary]") {
  // tanh x = x and σ(x) = 1/2 in float below 2^-12 and 2^-26; the kernels return exactly that
  // (and, for speed, do no arithmetic on the tiny value: see bench tape_overhead/100000).
  const float tiny[] = {0x1p-13f, -1e-20f, 1e-40f /* denormal */, -0.0f, 0x1p-27f};
  float t[5], sg[5];
  kernels::tanh_f32(tiny, t, 5);
  kernels::sigmoid_f32(tiny, sg, 5);
  for (int i = 0; i < 5; ++i) {
    INFO("x = " << tiny[i]);
    CHECK(t[i] == tiny[i]);
    CHECK(std::signbit(t[i]) == std::signbit(tiny[i]));
  }
  CHECK(sg[1] == 0.5f);
  CHECK(sg[2] == 0.5f);
  CHECK(sg[4] == 0.5f);
}

TEST_CASE("reshape backward passes the gradient on, retained gradients stay readable", "[ops][shape]") {
  Tape tape;
  Var x = tape.variable(random_normal({2, 6}, 3));
  Var r = reshape(x, {3, 4});
  r.retain_grad();
  Var y = reshape(r * 2.0, {12});
  tape.backward(sum(y * y));
  Tensor want = kernels::scale(x.value(), 8.0);  // d/dx Σ (2x)² = 8x
  REQUIRE(max_abs_diff(x.grad(), want) < 1e-5);
  REQUIRE(max_abs_diff(r.grad().reshape({2, 6}), want) < 1e-5);
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return reshape(v[0], {3, 4}) * 2.0; }, {random_normal({2, 6}, 4)});
}
