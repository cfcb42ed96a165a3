// log_softmax, softmax, cross_entropy, mse and dropout: gradchecks in float64, hand-computed golden
// values, numerical stability at extreme logits, dropout statistics and determinism, bad input.
#include <oneapi/tbb/global_control.h>

#include <cmath>
#include <limits>

#include "testing.h"

using namespace seqgrad;
using seqgrad::testing::random_normal;

namespace {

// log Σ exp over a row, the naive way (fine for the small values used as references here).
double lse(std::initializer_list<double> xs) {
  double s = 0;
  for (double x : xs) s += std::exp(x);
  return std::log(s);
}

}  // namespace

// ---- log_softmax / softmax -------------------------------------------------------------------

TEST_CASE("log_softmax gradchecks along every axis of a rank-3 tensor", "[ops][loss]") {
  Tensor x = random_normal({2, 3, 4}, 11);
  for (int axis : {0, 1, 2, -1, -3}) {
    INFO("axis " << axis);
    REQUIRE_GRADCHECK([axis](std::span<const Var> v) { return log_softmax(v[0], axis); }, {x});
  }
}

TEST_CASE("softmax gradchecks, also with fan-out into log_softmax", "[ops][loss]") {
  Tensor x = random_normal({3, 4}, 12);
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return softmax(v[0], 0); }, {x});
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return softmax(v[0]) + log_softmax(v[0]) * 0.5; }, {x});
}

TEST_CASE("log_softmax and softmax golden values", "[ops][loss]") {
  Tape tape;
  for (DType dt : {DType::f32, DType::f64}) {
    Var x = tape.variable(Tensor::from({2, 3}, {1, 2, 3, -1, 0, 1}, dt));
    Var y = log_softmax(x);
    const double l = lse({1, 2, 3});  // the second row is the first shifted by −2: same log-probabilities
    const double tol = dt == DType::f32 ? 1e-6 : 1e-14;
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t c = 0; c < 3; ++c) CHECK(y.value().at({r, c}) == Approx(double(c + 1) - l).margin(tol));
    Var p = softmax(x, 0);  // along rows: softmax of (1, −1), (2, 0), (3, 1) = (σ(2), σ(−2)) each
    const double s2 = 1 / (1 + std::exp(-2.0));
    for (int64_t c = 0; c < 3; ++c) {
      CHECK(p.value().at({0, c}) == Approx(s2).margin(tol));
      CHECK(p.value().at({1, c}) == Approx(1 - s2).margin(tol));
    }
    // Backward with seed g: dx = g − softmax · Σg.
    Tensor g = Tensor::from({2, 3}, {1, 0, 0, 0, 0, 2}, dt);
    tape.backward(y, g);
    const double q[3] = {std::exp(1 - l), std::exp(2 - l), std::exp(3 - l)};
    for (int64_t c = 0; c < 3; ++c) {
      CHECK(x.grad().at({0, c}) == Approx((c == 0) - q[c] * 1).margin(tol));
      CHECK(x.grad().at({1, c}) == Approx(2.0 * (c == 2) - q[c] * 2).margin(tol));
    }
  }
}

TEST_CASE("log_softmax is stable at extreme values", "[ops][loss]") {
  Tape tape;
  for (DType dt : {DType::f32, DType::f64}) {
    Var x = tape.variable(Tensor::from({3}, {1000, 0, -1000}, dt));
    Var y = log_softmax(x);
    CHECK(y.value().to_vector() == std::vector<double>{0, -1000, -2000});
    tape.backward(y, Tensor::ones({3}, dt));
    for (double d : x.grad().to_vector()) CHECK(std::isfinite(d));
    CHECK(x.grad().at({0}) == Approx(-2.0));
    Var p = softmax(x);
    CHECK(p.value().to_vector() == std::vector<double>{1, 0, 0});
  }
}

TEST_CASE("log_softmax is bitwise identical at 1 and 2 threads", "[ops][loss]") {
  Tensor x = random_normal({64, 40, 30}, 13).to(DType::f32);  // enough rows to run in parallel
  Tensor g = random_normal({64, 40, 30}, 14).to(DType::f32);
  auto run = [&](int threads, int axis) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(threads));
    Tape tape;
    Var v = tape.variable(x);
    Var y = log_softmax(v, axis);
    tape.backward(y, g);
    return std::pair{y.value(), v.grad()};
  };
  for (int axis : {0, 1, 2}) {
    auto [y1, g1] = run(1, axis);
    auto [y2, g2] = run(2, axis);
    CHECK(bitwise_equal(y1, y2));
    CHECK(bitwise_equal(g1, g2));
  }
}

// ---- cross_entropy ---------------------------------------------------------------------------

TEST_CASE("cross_entropy golden values", "[ops][loss]") {
  Tape tape;
  for (DType dt : {DType::f32, DType::f64}) {
    const double tol = dt == DType::f32 ? 1e-5 : 1e-13;
    Var x = tape.variable(Tensor::from({2, 3}, {1, 2, 3, 0, 0, 0}, dt));
    const int64_t t[] = {2, 0};
    const double l0 = lse({1, 2, 3}) - 3, l1 = std::log(3.0);
    CHECK(cross_entropy(x, t).item() == Approx((l0 + l1) / 2).margin(tol));
    CHECK(cross_entropy(x, t, -100, Reduction::sum).item() == Approx(l0 + l1).margin(tol));
    Var none = cross_entropy(x, t, -100, Reduction::none);
    REQUIRE(none.shape() == Shape{2});
    CHECK(none.value().at({0}) == Approx(l0).margin(tol));
    CHECK(none.value().at({1}) == Approx(l1).margin(tol));
    // Row weights: mean = Σ w·loss / Σ w.
    Tensor w = Tensor::from({2}, {0.5, 2}, dt);
    CHECK(cross_entropy(x, t, w).item() == Approx((0.5 * l0 + 2 * l1) / 2.5).margin(tol));
    CHECK(cross_entropy(x, t, w, Reduction::sum).item() == Approx(0.5 * l0 + 2 * l1).margin(tol));
    Var wn = cross_entropy(x, t, w, Reduction::none);
    CHECK(wn.value().at({1}) == Approx(2 * l1).margin(tol));
    // Ignored rows: excluded from the mean, 0 in Reduction::none.
    const int64_t ti[] = {2, 7};
    CHECK(cross_entropy(x, ti, 7).item() == Approx(l0).margin(tol));
    CHECK(cross_entropy(x, ti, 7, Reduction::none).value().at({1}) == 0.0);

    // Backward of the mean: (softmax − onehot) / N.
    Var loss = cross_entropy(x, t);
    tape.backward(loss);
    const double e = std::exp(lse({1, 2, 3}));
    CHECK(x.grad().at({0, 0}) == Approx(std::exp(1) / e / 2).margin(tol));
    CHECK(x.grad().at({0, 2}) == Approx((std::exp(3) / e - 1) / 2).margin(tol));
    CHECK(x.grad().at({1, 0}) == Approx((1.0 / 3 - 1) / 2).margin(tol));
    CHECK(x.grad().at({1, 1}) == Approx(1.0 / 6).margin(tol));
  }
}

TEST_CASE("cross_entropy gradchecks for every reduction, ignore_index and row weights", "[ops][loss]") {
  Tensor x = random_normal({5, 4}, 21);
  const int64_t t[] = {3, 0, -100, 1, 2};
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
    INFO("reduction " << int(r));
    REQUIRE_GRADCHECK([&](std::span<const Var> v) { return cross_entropy(v[0], t, -100, r); }, {x});
    Tensor w = Tensor::from({5}, {0.5, 0, 2, 1, 0.25}, DType::f64);
    const int64_t tw[] = {3, 0, 1, 1, 2};
    REQUIRE_GRADCHECK([&](std::span<const Var> v) { return cross_entropy(v[0], tw, w, r); }, {x});
  }
  // Fan-out: the same logits feed two losses; gradients add.
  const int64_t t2[] = {0, 1, 2, 3, 0};
  REQUIRE_GRADCHECK([&](std::span<const Var> v) { return cross_entropy(v[0], t) + cross_entropy(v[0], t2); }, {x});
}

TEST_CASE("cross_entropy is finite for logits of ±1e4", "[ops][loss]") {
  Tape tape;
  for (DType dt : {DType::f32, DType::f64}) {
    Var x = tape.variable(Tensor::from({2, 3}, {1e4, -1e4, 0, -1e4, 1e4, 1e4}, dt));
    const int64_t t[] = {1, 2};
    Var loss = cross_entropy(x, t, -100, Reduction::none);
    CHECK(loss.value().at({0}) == Approx(2e4));
    CHECK(loss.value().at({1}) == Approx(std::log(2.0)).margin(1e-6));
    tape.backward(loss, Tensor::ones({2}, dt));
    for (double d : x.grad().to_vector()) CHECK(std::isfinite(d));
    CHECK(x.grad().at({0, 0}) == Approx(1.0));
    CHECK(x.grad().at({0, 1}) == Approx(-1.0));
    CHECK(x.grad().at({1, 2}) == Approx(-0.5));
  }
}

TEST_CASE("cross_entropy mean over zero rows is NaN (like PyTorch), with zero gradient", "[ops][loss]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({2, 2}, {1, 2, 3, 4}, DType::f64));
  const int64_t t[] = {-100, -100};
  Var loss = cross_entropy(x, t);
  CHECK(std::isnan(loss.item()));
  CHECK(cross_entropy(x, t, -100, Reduction::sum).item() == 0.0);
  tape.backward(loss);
  CHECK(x.grad().to_vector() == std::vector<double>(4, 0.0));
  // All weights 0: the same; rows with weight 0 are not validated (padding may hold any target).
  const int64_t pad[] = {-1, 99};
  CHECK(std::isnan(cross_entropy(x, pad, Tensor::zeros({2}, DType::f64)).item()));
}

TEST_CASE("cross_entropy rejects bad input", "[ops][loss]") {
  Tape tape;
  Var x = tape.variable(Tensor::zeros({3, 4}, DType::f64));
  const int64_t t[] = {0, 1, 2};
  const int64_t t2[] = {0, 1};
  const int64_t bad[] = {0, 4, 1};
  const int64_t neg[] = {0, 1, -3};
  REQUIRE_THROWS_NAMING(cross_entropy(tape.variable(Tensor::zeros({3}, DType::f64)), t), "cross_entropy", "2-D", "(3)");
  REQUIRE_THROWS_NAMING(cross_entropy(x, t2), "cross_entropy", "2 targets", "(3, 4)");
  REQUIRE_THROWS_NAMING(cross_entropy(x, bad), "cross_entropy", "target 4", "row 1", "C = 4");
  REQUIRE_THROWS_NAMING(cross_entropy(x, neg), "cross_entropy", "target -3", "row 2", "C = 4");
  REQUIRE_THROWS_NAMING(cross_entropy(x, t, Tensor::from({3}, {1, -0.5, 1}, DType::f64)), "cross_entropy", "-0.5",
                        "row 1", "negative");
  REQUIRE_THROWS_NAMING(cross_entropy(x, t, Tensor::ones({4}, DType::f64)), "cross_entropy", "(4)", "(3, 4)");
  REQUIRE_THROWS_NAMING(cross_entropy(x, t, Tensor::ones({3}, DType::f32)), "cross_entropy", "dtypes differ");
  REQUIRE_THROWS_NAMING(log_softmax(x, 2), "log_softmax", "axis 2", "(3, 4)");
}

// ---- mse -------------------------------------------------------------------------------------

TEST_CASE("mse golden values and gradchecks with both arguments requiring grad", "[ops][loss]") {
  Tape tape;
  Var p = tape.variable(Tensor::from({3}, {1, 2, 3}, DType::f64));
  Var q = tape.variable(Tensor::from({3}, {0, 2, 5}, DType::f64));
  CHECK(mse(p, q).item() == Approx(5.0 / 3));
  CHECK(mse(p, q, Reduction::sum).item() == 5.0);
  CHECK(mse(p, q, Reduction::none).value().to_vector() == std::vector<double>{1, 0, 4});
  tape.backward(mse(p, q, Reduction::sum));
  CHECK(p.grad().to_vector() == std::vector<double>{2, 0, -4});
  CHECK(q.grad().to_vector() == std::vector<double>{-2, 0, 4});

  Tensor a = random_normal({2, 3}, 31), b = random_normal({2, 3}, 32);
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
    INFO("reduction " << int(r));
    REQUIRE_GRADCHECK([r](std::span<const Var> v) { return mse(v[0], v[1], r); }, {a, b});
  }
  // A constant target: only the prediction gets a gradient.
  REQUIRE_GRADCHECK([&](std::span<const Var> v) { return mse(v[0], v[0].tape().constant(b)); }, {a});
}

TEST_CASE("mse rejects shapes that differ (no broadcasting)", "[ops][loss]") {
  Tape tape;
  Var p = tape.variable(Tensor::zeros({2, 3}, DType::f64));
  REQUIRE_THROWS_NAMING(mse(p, tape.constant(Tensor::zeros({3}, DType::f64))), "mse: shapes (2, 3) and (3) differ");
  REQUIRE_THROWS_NAMING(mse(p, tape.constant(Tensor::zeros({2, 3}, DType::f32))), "mse", "f32", "f64");
}

// ---- dropout ---------------------------------------------------------------------------------

TEST_CASE("dropout gradchecks with a fixed mask", "[ops][loss]") {
  Tensor x = random_normal({4, 5}, 41);
  REQUIRE_GRADCHECK(
      [](std::span<const Var> v) {
        Rng rng(99);  // reseeded on every evaluation: the same mask each time
        return dropout(v[0], 0.4, rng);
      },
      {x});
}

TEST_CASE("dropout keeps 1 − p of the elements, scaled by exactly 1/(1 − p)", "[ops][loss]") {
  const double p = 0.3;
  const int64_t n = 100'000;
  Tape tape;
  Var x = tape.variable(Tensor::full({n}, 1.5));
  Rng rng(2024);
  Var y = dropout(x, p, rng);
  const float kept_value = 1.5f * float(1.0 / (1.0 - p));
  int64_t kept = 0;
  bool exact = true;
  for (double v : y.value().to_vector()) {
    if (v != 0) {
      ++kept;
      exact &= float(v) == kept_value;
    }
  }
  CHECK(exact);
  CHECK(double(kept) / double(n) == Approx(1 - p).margin(0.01));

  // Backward multiplies by the same mask.
  tape.backward(y, Tensor::ones({n}));
  const Tensor g = x.grad();
  const float* pg = g.data<float>();
  const float* py = y.value().data<float>();
  bool same_mask = true;
  for (int64_t i = 0; i < n; ++i) same_mask &= (pg[i] != 0) == (py[i] != 0);
  CHECK(same_mask);

  // Same seed, same mask; another seed, another mask.
  Rng r1(7), r2(7), r3(8);
  Var a = dropout(x, p, r1), b = dropout(x, p, r2), c = dropout(x, p, r3);
  CHECK(bitwise_equal(a.value(), b.value()));
  CHECK_FALSE(bitwise_equal(a.value(), c.value()));
}

TEST_CASE("dropout is the identity in eval mode and at p = 0, p = 1 zeroes everything", "[ops][loss]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({2, 2}, {1, -2, 3, 4}, DType::f64));
  Rng rng(3);
  const Rng::State before = rng.state();
  Var e = dropout(x, 0.5, rng, /*training=*/false);
  CHECK(e.index() == x.index());
  Var z = dropout(x, 0.0, rng);
  CHECK(z.index() == x.index());
  CHECK(rng.state().s == before.s);  // no draws when nothing is dropped
  const size_t nodes = tape.size();
  Var all = dropout(x, 1.0, rng);
  CHECK(tape.size() == nodes + 1);
  CHECK(all.value().to_vector() == std::vector<double>(4, 0.0));
  tape.backward(all, Tensor::ones({2, 2}, DType::f64));
  CHECK(x.grad().to_vector() == std::vector<double>(4, 0.0));
}

TEST_CASE("dropout rejects p outside 0..1", "[ops][loss]") {
  Tape tape;
  Var x = tape.variable(Tensor::zeros({2}));
  Rng rng(1);
  REQUIRE_THROWS_NAMING(dropout(x, 1.5, rng), "dropout", "1.5");
  REQUIRE_THROWS_NAMING(dropout(x, -0.1, rng), "dropout", "-0.1");
  REQUIRE_THROWS_NAMING(dropout(x, std::numeric_limits<double>::quiet_NaN(), rng), "dropout", "nan");
  REQUIRE_THROWS_NAMING(dropout(x, 2.0, rng, /*training=*/false), "dropout", "2");
}
