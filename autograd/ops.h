// Differentiable ops on Vars. Each is one function (in ops_*.cpp) that runs its forward kernel and
// records its backward closure right there; the one-line math sits above each definition.
// Binary elementwise ops broadcast like NumPy. Axes may be negative (-1 = last).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "autograd/tape.h"

namespace seqgrad {

class Rng;

// ---- elementwise arithmetic (ops_elementwise.cpp) --------------------------------------------
Var add(const Var& a, const Var& b);
Var sub(const Var& a, const Var& b);
Var mul(const Var& a, const Var& b);
Var div(const Var& a, const Var& b);
Var neg(const Var& x);
Var add_scalar(const Var& x, double s);
Var mul_scalar(const Var& x, double s);

inline Var operator+(const Var& a, const Var& b) { return add(a, b); }
inline Var operator-(const Var& a, const Var& b) { return sub(a, b); }
inline Var operator*(const Var& a, const Var& b) { return mul(a, b); }
inline Var operator/(const Var& a, const Var& b) { return div(a, b); }
inline Var operator-(const Var& x) { return neg(x); }
inline Var operator+(const Var& x, double s) { return add_scalar(x, s); }
inline Var operator+(double s, const Var& x) { return add_scalar(x, s); }
inline Var operator-(const Var& x, double s) { return add_scalar(x, -s); }
inline Var operator-(double s, const Var& x) { return add_scalar(neg(x), s); }
inline Var operator*(const Var& x, double s) { return mul_scalar(x, s); }
inline Var operator*(double s, const Var& x) { return mul_scalar(x, s); }
inline Var operator/(const Var& x, double s) { return mul_scalar(x, 1.0 / s); }

// ---- elementwise functions (ops_unary.cpp) ---------------------------------------------------
Var exp(const Var& x);
Var log(const Var& x);
Var sqrt(const Var& x);
Var pow(const Var& x, double p);
Var abs(const Var& x);
Var tanh(const Var& x);     // primitive: its derivative 1 − y² reuses the output
Var sigmoid(const Var& x);  // primitive and stable for large |x|: derivative y(1 − y)
Var relu(const Var& x);
Var clamp(const Var& x, double lo, double hi);  // gradient 1 strictly inside (lo, hi), else 0
// where(cond, a, b) = cond ? a : b elementwise; cond is a 0/1 tensor broadcastable with a and b.
Var where(const Tensor& cond, const Var& a, const Var& b);

// ---- reductions (ops_reduce.cpp) -------------------------------------------------------------
Var sum(const Var& x);  // all elements -> scalar
Var sum(const Var& x, int axis, bool keepdim = false);
Var mean(const Var& x);
Var mean(const Var& x, int axis, bool keepdim = false);
Var max(const Var& x, int axis, bool keepdim = false);  // gradient to the first maximum

// ---- linear algebra (ops_linalg.cpp) ---------------------------------------------------------
// (M, K) x (K, N) -> (M, N); batched (B, M, K) x (B, K, N) -> (B, M, N).
Var matmul(const Var& a, const Var& b);
// y = b + Σᵢ xᵢ Wᵢᵀ with xᵢ: (B, Iᵢ), Wᵢ: (O, Iᵢ), b: (O) -> y: (B, O). One fused primitive for the
// recurrent hot path (weights stored (out, in) like PyTorch). `b` may be an undefined Var (no bias).
struct AffineTerm {
  Var x;
  Var W;
};
Var affine(std::span<const AffineTerm> terms, const Var& b);
inline Var affine(const Var& x, const Var& W, const Var& b) {
  AffineTerm t[] = {{x, W}};
  return affine(t, b);
}
inline Var affine(const Var& x, const Var& W, const Var& h, const Var& U, const Var& b) {
  AffineTerm t[] = {{x, W}, {h, U}};
  return affine(t, b);
}

// ---- shapes and indexing (ops_shape.cpp) -----------------------------------------------------
Var reshape(const Var& x, std::span<const int64_t> dims);  // a view; one dim may be -1
inline Var reshape(const Var& x, std::initializer_list<int64_t> dims) {
  return reshape(x, std::span<const int64_t>(dims.begin(), dims.size()));
}
Var transpose(const Var& x, int axis0 = -2, int axis1 = -1);
Var slice(const Var& x, int axis, int64_t start, int64_t end);  // [start, end) along axis
std::vector<Var> split(const Var& x, std::span<const int64_t> sizes, int axis);
std::vector<Var> chunk(const Var& x, int n, int axis);  // n equal parts
template <int N>
std::array<Var, N> chunk(const Var& x, int axis) {
  auto parts = chunk(x, N, axis);
  std::array<Var, N> out;
  for (int i = 0; i < N; ++i) out[size_t(i)] = parts[size_t(i)];
  return out;
}
Var concat(std::span<const Var> xs, int axis);
Var stack(std::span<const Var> xs, int axis);  // new axis
// Rows of x along `axis` picked by indices (embedding lookup: index_select(E, 0, ids) -> (n, D)).
Var index_select(const Var& x, int axis, std::span<const int64_t> indices);

// ---- losses and probabilistic ops (ops_loss.cpp) ---------------------------------------------
enum class Reduction { mean, sum, none };
Var log_softmax(const Var& x, int axis = -1);  // x − logsumexp(x), stable
Var softmax(const Var& x, int axis = -1);
// Cross-entropy of logits (N, C) against integer targets (N). Rows whose target equals
// ignore_index contribute nothing; the mean is over the remaining rows.
Var cross_entropy(const Var& logits, std::span<const int64_t> targets, int64_t ignore_index = -100,
                  Reduction reduction = Reduction::mean);
// As above with a per-row weight mask (N) of 0/1 (or any non-negative weights); mean = Σ w·loss / Σ w.
Var cross_entropy(const Var& logits, std::span<const int64_t> targets, const Tensor& row_weights,
                  Reduction reduction = Reduction::mean);
Var mse(const Var& prediction, const Var& target, Reduction reduction = Reduction::mean);
// Inverted dropout: keeps each element with probability 1 − p and scales it by 1/(1 − p); the mask
// comes from `rng`. Identity when !training or p == 0.
Var dropout(const Var& x, double p, Rng& rng, bool training = true);

}  // namespace seqgrad
