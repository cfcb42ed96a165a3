// Initialisers. Values are drawn in index order from the Rng, in double, then stored.
#include "nn/init.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace seqgrad::nn::init {

static void require_matrix(const Tensor& t, const char* op) {
  if (t.rank() != 2) throw std::invalid_argument(std::string(op) + ": needs a 2-D tensor, got " + t.shape().str());
}

void constant(Tensor& t, double value) { t.fill(value); }

void uniform(Tensor& t, Rng& rng, double lo, double hi) {
  t.copy_from(Tensor::uniform(t.shape(), rng, lo, hi, t.dtype()));
}

void normal(Tensor& t, Rng& rng, double mean, double stddev) {
  t.copy_from(Tensor::normal(t.shape(), rng, mean, stddev, t.dtype()));
}

void xavier_uniform(Tensor& t, Rng& rng, double gain) {
  require_matrix(t, "xavier_uniform");
  const double a = gain * std::sqrt(6.0 / double(t.shape()[0] + t.shape()[1]));
  uniform(t, rng, -a, a);
}

// Modified Gram–Schmidt on the columns of a tall Gaussian matrix. It leaves R with a positive
// diagonal, which is what makes Q Haar-distributed (Mezzadri 2007).
void orthogonal(Tensor& t, Rng& rng, double gain) {
  require_matrix(t, "orthogonal");
  const int64_t rows = t.shape()[0], cols = t.shape()[1];
  const bool tall = rows >= cols;
  const int64_t n = tall ? rows : cols, k = tall ? cols : rows;  // q: n × k, orthonormal columns
  std::vector<double> q(size_t(n * k));
  for (double& v : q) v = rng.normal();
  auto at = [&](int64_t i, int64_t j) -> double& { return q[size_t(i * k + j)]; };
  for (int64_t j = 0; j < k; ++j) {
    for (int64_t p = 0; p < j; ++p) {
      double dot = 0;
      for (int64_t i = 0; i < n; ++i) dot += at(i, p) * at(i, j);
      for (int64_t i = 0; i < n; ++i) at(i, j) -= dot * at(i, p);
    }
    double norm = 0;
    for (int64_t i = 0; i < n; ++i) norm += at(i, j) * at(i, j);
    norm = std::sqrt(norm);
    if (norm < 1e-12) throw std::runtime_error("orthogonal: degenerate random matrix (retry with another seed)");
    for (int64_t i = 0; i < n; ++i) at(i, j) /= norm;
  }
  std::vector<double> out(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[size_t(r * cols + c)] = gain * (tall ? at(r, c) : at(c, r));
  t.copy_from(Tensor::from(t.shape(), out, t.dtype()));
}

void identity(Tensor& t, double scale) {
  require_matrix(t, "identity");
  if (t.shape()[0] != t.shape()[1])
    throw std::invalid_argument("identity: needs a square matrix, got " + t.shape().str());
  t.fill(0.0);
  for (int64_t i = 0; i < t.shape()[0]; ++i) t.set({i, i}, scale);
}

}  // namespace seqgrad::nn::init
