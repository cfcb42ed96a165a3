// jacobian() against analytic Jacobians and central differences in float64; singular_values()
// against matrices whose singular values are known exactly.
#include <algorithm>
#include <cmath>

#include "autograd/jacobian.h"
#include "testing.h"

using namespace seqgrad;
using seqgrad::testing::random_normal;

namespace {

// max over elements of |J − expected| where expected(i, j) is a function of the indices.
template <typename F>
double max_error(const Tensor& J, F expected) {
  double worst = 0;
  for (int64_t i = 0; i < J.size(0); ++i)
    for (int64_t j = 0; j < J.size(1); ++j) worst = std::max(worst, std::abs(J.at({i, j}) - expected(i, j)));
  return worst;
}

// Column j of ∂f/∂inputs[k] by central differences of every output element (float64).
Tensor numeric_jacobian(const JacobianFn& f, std::vector<Tensor> inputs, size_t k, double eps = 1e-6) {
  auto eval = [&]() {
    Tape tape;
    std::vector<Var> vs;
    for (const Tensor& t : inputs) vs.push_back(tape.constant(t));
    return f(vs).value().to_vector();
  };
  const int64_t m = int64_t(eval().size()), n = inputs[k].numel();
  Tensor J = Tensor::zeros({m, n}, DType::f64);
  for (int64_t j = 0; j < n; ++j) {
    double* x = inputs[k].data<double>();
    const double saved = x[j];
    x[j] = saved + eps;
    const std::vector<double> up = eval();
    x[j] = saved - eps;
    const std::vector<double> down = eval();
    x[j] = saved;
    for (int64_t i = 0; i < m; ++i) J.set({i, j}, (up[size_t(i)] - down[size_t(i)]) / (2 * eps));
  }
  return J;
}

// A (n, n) rotation in the plane (p, q) by angle a, times M, in float64.
Tensor rotate(const Tensor& M, int64_t p, int64_t q, double a) {
  Tensor out = M.clone();
  for (int64_t j = 0; j < M.size(1); ++j) {
    const double mp = M.at({p, j}), mq = M.at({q, j});
    out.set({p, j}, std::cos(a) * mp - std::sin(a) * mq);
    out.set({q, j}, std::sin(a) * mp + std::cos(a) * mq);
  }
  return out;
}

}  // namespace

TEST_CASE("jacobian of matmul is the matrix, and x for the matrix", "[autograd][jacobian]") {
  const Tensor A = random_normal({4, 3}, 1), x = random_normal({3, 1}, 2);
  const JacobianResult r = jacobian([](std::span<const Var> v) { return matmul(v[0], v[1]); }, {A, x});
  REQUIRE(r.jacobians.size() == 2);
  REQUIRE(r.value.shape() == Shape{4, 1});
  // y_i = Σ_j A_ij x_j: ∂y_i/∂x_j = A_ij; ∂y_i/∂A_kj = δ_ik x_j (A flattened row-major: k·3 + j).
  REQUIRE(r.jacobians[1].shape() == Shape{4, 3});
  CHECK(max_error(r.jacobians[1], [&](int64_t i, int64_t j) { return A.at({i, j}); }) == 0.0);
  REQUIRE(r.jacobians[0].shape() == Shape{4, 12});
  CHECK(max_error(r.jacobians[0], [&](int64_t i, int64_t kj) { return kj / 3 == i ? x.at({kj % 3, 0}) : 0.0; }) == 0.0);
}

TEST_CASE("jacobian of tanh(W x) is diag(1 - y^2) W", "[autograd][jacobian]") {
  const Tensor W = random_normal({5, 3}, 3), x = random_normal({1, 3}, 4);
  const JacobianResult r = jacobian([](std::span<const Var> v) { return tanh(affine(v[0], v[1], Var())); }, {x, W});
  const Tensor& y = r.value;  // (1, 5)
  auto d = [&](int64_t i) { return 1 - y.at({0, i}) * y.at({0, i}); };
  CHECK(max_error(r.jacobians[0], [&](int64_t i, int64_t j) { return d(i) * W.at({i, j}); }) < 1e-15);
  CHECK(max_error(r.jacobians[1], [&](int64_t i, int64_t kj) {
          return kj / 3 == i ? d(i) * x.at({0, kj % 3}) : 0.0;
        }) < 1e-15);
}

TEST_CASE("jacobian matches central differences for a composite of several inputs", "[autograd][jacobian]") {
  // y (2, 4) = softmax(a · bᵀ) ⊙ (1 + c²), summed over nothing: every output depends on every input.
  const JacobianFn f = [](std::span<const Var> v) {
    return softmax(matmul(v[0], transpose(v[1]))) * (pow(v[2], 2) + 1);
  };
  const std::vector<Tensor> inputs = {random_normal({2, 3}, 5), random_normal({4, 3}, 6), random_normal({1, 4}, 7)};
  const JacobianResult r = jacobian(f, inputs);
  for (size_t k = 0; k < inputs.size(); ++k) {
    INFO("input " << k);
    const Tensor numeric = numeric_jacobian(f, inputs, k);
    REQUIRE(r.jacobians[k].shape() == numeric.shape());
    CHECK(max_abs_diff(r.jacobians[k], numeric) < 1e-8);
  }
}

TEST_CASE("jacobian: float32 inputs, outputs that ignore an input, and bad calls", "[autograd][jacobian]") {
  SECTION("float32 in, float64 Jacobian out, the value in f's dtype") {
    const Tensor x = Tensor::from({3}, {0.5, -1.0, 2.0});
    const JacobianResult r = jacobian([](std::span<const Var> v) { return v[0] * v[0]; }, {x});
    CHECK(r.value.dtype() == DType::f32);
    CHECK(r.jacobians[0].dtype() == DType::f64);
    CHECK(max_error(r.jacobians[0], [&](int64_t i, int64_t j) { return i == j ? 2 * x.at({i}) : 0.0; }) == 0.0);
  }
  SECTION("an input y does not depend on gets a zero block; a constant y gives zeros") {
    const Tensor a = random_normal({2}, 8), b = random_normal({3}, 9);
    const JacobianResult r = jacobian([](std::span<const Var> v) { return exp(v[0]); }, {a, b});
    CHECK(r.jacobians[1].shape() == Shape{2, 3});
    CHECK(max_error(r.jacobians[1], [](int64_t, int64_t) { return 0.0; }) == 0.0);
    const JacobianResult c =
        jacobian([](std::span<const Var> v) { return v[0].tape().constant(Tensor::ones({2}, DType::f64)); }, {a});
    CHECK(max_error(c.jacobians[0], [](int64_t, int64_t) { return 0.0; }) == 0.0);
  }
  SECTION("errors name the function") {
    REQUIRE_THROWS_NAMING(jacobian([](std::span<const Var> v) { return v[0]; }, std::span<const Tensor>{}), "jacobian",
                          "no inputs");
    Tape other;
    const Var stray = other.variable(Tensor::ones({2}, DType::f64));
    REQUIRE_THROWS_NAMING(jacobian([&](std::span<const Var>) { return stray; }, {random_normal({2})}), "jacobian",
                          "tape");
  }
}

TEST_CASE("singular values of known matrices", "[autograd][jacobian]") {
  SECTION("diagonal: the absolute diagonal, descending") {
    const Tensor D = Tensor::from({3, 3}, {0.5, 0, 0, 0, -3, 0, 0, 0, 1}, DType::f64);
    CHECK(singular_values(D) == std::vector<double>{3, 1, 0.5});
  }
  SECTION("Q diag(s) P with Q, P orthogonal (products of rotations)") {
    const std::vector<double> s = {4, 2.5, 1, 0.25, 0};
    Tensor M = Tensor::zeros({5, 5}, DType::f64);
    for (int64_t i = 0; i < 5; ++i) M.set({i, i}, s[size_t(4 - i)]);  // ascending on the diagonal
    M = rotate(rotate(rotate(M, 0, 3, 0.7), 1, 4, -1.3), 2, 3, 2.1);  // Q · diag
    Tensor Mt = Tensor::zeros({5, 5}, DType::f64);                    // (Q diag)ᵀ, rotated again: Q diag P
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 5; ++j) Mt.set({i, j}, M.at({j, i}));
    Mt = rotate(rotate(Mt, 0, 1, 0.4), 3, 4, -2.2);
    const std::vector<double> got = singular_values(Mt);
    REQUIRE(got.size() == 5);
    for (size_t i = 0; i < 5; ++i) CHECK(std::abs(got[i] - s[i]) < 1e-14);
  }
  SECTION("rectangular, either orientation; float32 input") {
    const Tensor wide = Tensor::from({2, 3}, {0, 3, 0, 4, 0, 0});
    CHECK(singular_values(wide) == std::vector<double>{4, 3});
    const Tensor tall = Tensor::from({3, 2}, {0, 4, 3, 0, 0, 0}, DType::f64);
    CHECK(singular_values(tall) == std::vector<double>{4, 3});
  }
  SECTION("a random matrix: Σ σ² is the squared Frobenius norm, and σ_max bounds ‖A v‖/‖v‖") {
    const Tensor A = random_normal({6, 4}, 10);
    const std::vector<double> sv = singular_values(A);
    double fro = 0, sum_sq = 0;
    for (double a : A.to_vector()) fro += a * a;
    for (double x : sv) sum_sq += x * x;
    CHECK(std::abs(fro - sum_sq) < 1e-12 * fro);
    CHECK(std::is_sorted(sv.rbegin(), sv.rend()));
    for (int64_t j = 0; j < 4; ++j) {  // ‖A e_j‖ lies in [σ_min, σ_max]
      double col = 0;
      for (int64_t i = 0; i < 6; ++i) col += A.at({i, j}) * A.at({i, j});
      CHECK(std::sqrt(col) <= sv.front());
      CHECK(std::sqrt(col) >= sv.back());
    }
  }
  SECTION("bad input") {
    REQUIRE_THROWS_NAMING(singular_values(Tensor::ones({3}, DType::f64)), "singular_values", "(3)");
    REQUIRE_THROWS_NAMING(singular_values(Tensor::from({1, 2}, {1.0, NAN}, DType::f64)), "singular_values",
                          "non-finite");
  }
}
