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

// Rotates columns p and q of the column-major (rows, ·) matrix `a` so that they become orthogonal;
// returns false when they already are (to working precision).
bool orthogonalise_pair(std::vector<double>& a, int64_t rows, int64_t p, int64_t q) {
  double* u = a.data() + p * rows;
  double* v = a.data() + q * rows;
  double alpha = 0, beta = 0, gamma = 0;  // ‖u‖², ‖v‖², u·v
  for (int64_t i = 0; i < rows; ++i) {
    alpha += u[i] * u[i];
    beta += v[i] * v[i];
    gamma += u[i] * v[i];
  }
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
  for (int sweep = 0; sweep < 60; ++sweep) {
    bool rotated = false;
    for (int64_t p = 0; p + 1 < cols; ++p)
      for (int64_t q = p + 1; q < cols; ++q) rotated |= orthogonalise_pair(a, rows, p, q);
    if (!rotated) break;
  }
  std::vector<double> sigma(static_cast<size_t>(cols));
  for (int64_t j = 0; j < cols; ++j) {
    double s = 0;
    for (int64_t i = 0; i < rows; ++i) s += a[size_t(j * rows + i)] * a[size_t(j * rows + i)];
    sigma[size_t(j)] = std::sqrt(s);
  }
  std::sort(sigma.begin(), sigma.end(), std::greater<double>());
  return sigma;
}

}  // namespace seqgrad
