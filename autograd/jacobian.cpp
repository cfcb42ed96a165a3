// jacobian: one backward pass per output element through a retained graph; singular_values:
// one-sided Jacobi on the columns.
#include "autograd/jacobian.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>

namespace seqgrad {

namespace {

// e_i of y's shape and dtype: the seed that makes backward return row i of the Jacobian.
Tensor unit_seed(const Tensor& y, int64_t i) {
  Tensor e = Tensor::zeros(y.shape(), y.dtype());
  if (y.dtype() == DType::f64) e.data<double>()[i] = 1.0;
  else e.data<float>()[i] = 1.0f;
  return e;
}

// Copies the gradient g (any shape, numel n) into row i of the (m, n) float64 matrix J.
void put_row(Tensor& J, int64_t i, const Tensor& g) {
  const std::vector<double> v = g.to_vector();
  std::copy(v.begin(), v.end(), J.data<double>() + i * J.size(1));
}

}  // namespace

JacobianResult jacobian(const JacobianFn& f, std::span<const Tensor> inputs) {
  if (inputs.empty()) throw std::invalid_argument("jacobian: no inputs to differentiate with respect to");
  Tape tape;
  std::vector<Var> xs;
  for (const Tensor& t : inputs) xs.push_back(tape.variable(t));
  const Var y = f(xs);
  if (!y.defined() || &y.tape() != &tape)
    throw std::invalid_argument("jacobian: f must return a Var recorded on the tape of its inputs");
  JacobianResult r{y.value(), {}};
  const int64_t m = y.value().numel();
  for (const Tensor& t : inputs) r.jacobians.push_back(Tensor::zeros({m, t.numel()}, DType::f64));
  if (!y.requires_grad()) return r;  // y does not depend on any input: every Jacobian is zero
  for (int64_t i = 0; i < m; ++i) {
    for (const Var& x : xs) tape.node(x).grad = Tensor();  // leaves accumulate across passes
    tape.backward(y, unit_seed(r.value, i), /*retain_graph=*/i + 1 < m);
    for (size_t k = 0; k < xs.size(); ++k) put_row(r.jacobians[k], i, xs[k].grad());
  }
  return r;
}

// ---- singular values ----------------------------------------------------------------------------

namespace {

// u·v with four partial sums in a fixed order (breaks the add chain, so the loop pipelines; the
// order, and so the bits, never depend on the thread count or the data).
double dot(const double* u, const double* v, int64_t n) {
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) s[k] += u[i + k] * v[i + k];
  for (; i < n; ++i) s[0] += u[i] * v[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// Rotates columns p and q of the column-major (rows, ·) matrix `a` so that they become orthogonal,
// updating their squared norms `norm2`; returns false when they already are (to working precision).
bool orthogonalise_pair(std::vector<double>& a, std::vector<double>& norm2, int64_t rows, int64_t p, int64_t q) {
  double* u = a.data() + p * rows;
  double* v = a.data() + q * rows;
  const double alpha = norm2[size_t(p)], beta = norm2[size_t(q)], gamma = dot(u, v, rows);  // ‖u‖², ‖v‖², u·v
  if (gamma == 0 || std::abs(gamma) <= 1e-15 * std::sqrt(alpha * beta)) return false;
  // The rotation angle that zeroes u·v (Golub & Van Loan, the symmetric Schur decomposition).
  const double zeta = (beta - alpha) / (2 * gamma);
  const double t = (zeta >= 0 ? 1.0 : -1.0) / (std::abs(zeta) + std::sqrt(1 + zeta * zeta));
  const double c = 1 / std::sqrt(1 + t * t), s = c * t;
  for (int64_t i = 0; i < rows; ++i) {
    const double ui = u[i], vi = v[i];
    u[i] = c * ui - s * vi;
    v[i] = s * ui + c * vi;
  }
  norm2[size_t(p)] = alpha - t * gamma;  // the rotated norms, exact in exact arithmetic
  norm2[size_t(q)] = beta + t * gamma;
  return true;
}

}  // namespace

std::vector<double> singular_values(const Tensor& matrix) {
  if (matrix.rank() != 2)
    throw std::invalid_argument("singular_values: needs a matrix (rank 2), got " + matrix.shape().str());
  const std::vector<double> values = matrix.to_vector();
  for (double x : values)
    if (!std::isfinite(x))
      throw std::invalid_argument("singular_values: the " + matrix.describe() + " matrix has a non-finite entry");
  // Work on the orientation with fewer columns: A or Aᵀ, stored column-major as (rows, cols).
  const int64_t m = matrix.size(0), n = matrix.size(1);
  const bool transposed = n > m;
  const int64_t rows = transposed ? n : m, cols = transposed ? m : n;
  std::vector<double> a(values.size());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) a[size_t(transposed ? i * n + j : j * m + i)] = values[size_t(i * n + j)];
  // Converges quadratically once close; 60 sweeps is far beyond what any matrix here needs, and the
  // column norms are accurate to working precision even if a pathological case were still rotating.
  std::vector<double> norm2(static_cast<size_t>(cols));
  auto column_norms = [&] {  // recomputed each sweep, so the updates above never drift far
    for (int64_t j = 0; j < cols; ++j) norm2[size_t(j)] = dot(&a[size_t(j * rows)], &a[size_t(j * rows)], rows);
  };
  for (int sweep = 0; sweep < 60; ++sweep) {
    column_norms();
    bool rotated = false;
    for (int64_t p = 0; p + 1 < cols; ++p)
      for (int64_t q = p + 1; q < cols; ++q) rotated |= orthogonalise_pair(a, norm2, rows, p, q);
    if (!rotated) break;
  }
  column_norms();
  std::vector<double> sigma(static_cast<size_t>(cols));
  for (int64_t j = 0; j < cols; ++j) sigma[size_t(j)] = std::sqrt(norm2[size_t(j)]);
  std::sort(sigma.begin(), sigma.end(), std::greater<double>());
  return sigma;
}

}  // namespace seqgrad
