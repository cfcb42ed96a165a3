// Losses and probabilistic ops. log_softmax and cross_entropy are primitives on purpose: they
// subtract the row maximum before exponentiating, so any finite logits give finite results, and
// their backward recomputes softmax from saved per-row statistics instead of dividing by it.
// Rows are independent and each is reduced sequentially, so results are bitwise identical at any
// thread count.
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/kernels.h"
#include "autograd/ops.h"
#include "autograd/rng.h"

namespace seqgrad {

using kernels::map2;
using kernels::parallel_chunks;

// Rows per parallel chunk for row-wise kernels over rows of n elements.
static int64_t row_grain(int64_t n) { return std::max<int64_t>(1, kernels::kElementGrain / std::max<int64_t>(n, 1)); }

// A value for error messages: shortest-ish form ("0.5", "-1", "nan").
static std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// y = x − max − log Σ exp(x − max) along axis;  dx += g − softmax(x) · Σ g (softmax = exp y)
Var log_softmax(const Var& x, int axis) {
  const Shape& s = x.shape();
  const int ax = s.axis(axis, "log_softmax");
  // A row is the n elements along `ax` at a fixed (outer, inner) position, stride `inner` apart.
  const int64_t n = s[ax], inner = s.prod(ax + 1, s.rank()), rows = s.prod(0, ax) * inner;
  Tensor y(s, x.dtype());
  dispatch(x.dtype(), [&]<typename T>(T) {
    const T* px = x.value().data<T>();
    T* py = y.data<T>();
    parallel_chunks(rows, row_grain(n), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t base = (r / inner) * n * inner + r % inner;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t k = 0; k < n; ++k) m = std::max(m, px[base + k * inner]);
        double sum = 0;
        for (int64_t k = 0; k < n; ++k) sum += double(std::exp(px[base + k * inner] - m));
        const T ls = T(std::log(sum));
        for (int64_t k = 0; k < n; ++k) py[base + k * inner] = (px[base + k * inner] - m) - ls;
      }
    });
  });
  return x.tape().record("log_softmax", std::move(y), {x}, [x, n, inner, rows](GradContext& g) {
    Tensor& dx = g.grad_of(x);
    dispatch(dx.dtype(), [&]<typename T>(T) {
      const T *pg = g.out().data<T>(), *py = g.value().data<T>();
      T* pd = dx.data<T>();
      parallel_chunks(rows, row_grain(n), [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
          const int64_t base = (r / inner) * n * inner + r % inner;
          double gsum = 0;
          for (int64_t k = 0; k < n; ++k) gsum += double(pg[base + k * inner]);
          const T sg = T(gsum);
          for (int64_t k = 0; k < n; ++k) {
            const int64_t i = base + k * inner;
            pd[i] += pg[i] - std::exp(py[i]) * sg;
          }
        }
      });
    });
  });
}

// y = exp(log_softmax(x)). A composite: log_softmax already makes it stable, and the chain rule
// through exp gives the textbook dx = y ⊙ (g − Σ g ⊙ y).
Var softmax(const Var& x, int axis) { return exp(log_softmax(x, axis)); }

// Per-row weights of cross_entropy (N): row_weights (checked), else 1, and 0 for an ignored row.
// Checks the logits are (N, C) and every counted row's target is in [0, C).
static std::vector<double> cross_entropy_weights(const Var& logits, std::span<const int64_t> t, const Tensor* weights,
                                                 int64_t ignore_index) {
  const Shape& s = logits.shape();
  if (s.rank() != 2) throw std::invalid_argument("cross_entropy: logits must be 2-D (N, C), got shape " + s.str());
  const int64_t N = s[0], C = s[1];
  if (int64_t(t.size()) != N)
    throw std::invalid_argument("cross_entropy: " + std::to_string(t.size()) + " targets for logits of shape " +
                                s.str());
  // Effective per-row weight: 0 for skipped rows, 1 without weights.
  std::vector<double> w(size_t(N), 1.0);
  if (weights) {
    if (weights->dtype() != logits.dtype())
      throw std::invalid_argument("cross_entropy: row_weights " + weights->describe() + " and logits " +
                                  logits.value().describe() + ": dtypes differ");
    if (!(weights->shape() == Shape{N}))
      throw std::invalid_argument("cross_entropy: row_weights of shape " + weights->shape().str() +
                                  " do not match logits of shape " + s.str() + " (expected (" + std::to_string(N) +
                                  "))");
    dispatch(weights->dtype(), [&]<typename T>(T) {
      const T* pw = weights->data<T>();
      for (int64_t i = 0; i < N; ++i) {
        if (!(pw[i] >= 0))
          throw std::invalid_argument("cross_entropy: row weight " + num(double(pw[i])) + " at row " +
                                      std::to_string(i) + " is negative (or NaN)");
        w[size_t(i)] = double(pw[i]);
      }
    });
  }
  for (int64_t i = 0; i < N; ++i) {
    if (!weights && t[size_t(i)] == ignore_index) w[size_t(i)] = 0;
    if (w[size_t(i)] == 0) continue;
    if (t[size_t(i)] < 0 || t[size_t(i)] >= C)
      throw std::out_of_range("cross_entropy: target " + std::to_string(t[size_t(i)]) + " at row " + std::to_string(i) +
                              " is out of range [0, " + std::to_string(C) + ") (C = " + std::to_string(C) + ")" +
                              (weights ? std::string() : ", and is not ignore_index " + std::to_string(ignore_index)));
  }
  return w;
}

namespace {
// Per-row statistics of the cross_entropy forward, each (N); the backward's softmax reuses max and ls.
struct CrossEntropyRows {
  std::vector<double> max, ls, loss;  // m = max x, log Σ exp(x − m), w · (m − x_t + ls); 0 for skipped rows
};
}  // namespace

// Forward: per-row max m and log Σ exp(x − m) of logits x (N, C), and each row's weighted loss.
static CrossEntropyRows cross_entropy_rows(const Tensor& x, std::span<const int64_t> t, const std::vector<double>& w) {
  const int64_t N = x.size(0), C = x.size(1);
  CrossEntropyRows r{std::vector<double>(size_t(N), 0.0), std::vector<double>(size_t(N), 0.0),
                     std::vector<double>(size_t(N), 0.0)};
  dispatch(x.dtype(), [&]<typename T>(T) {
    const T* px = x.data<T>();
    parallel_chunks(N, row_grain(C), [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        if (w[size_t(i)] == 0) continue;
        const T* row = px + i * C;
        T m = row[0];
        for (int64_t c = 1; c < C; ++c) m = std::max(m, row[c]);
        double sum = 0;
        for (int64_t c = 0; c < C; ++c) sum += double(std::exp(row[c] - m));
        r.max[size_t(i)] = double(m);
        r.ls[size_t(i)] = std::log(sum);
        r.loss[size_t(i)] = w[size_t(i)] * ((double(m) - double(row[t[size_t(i)]])) + r.ls[size_t(i)]);
      }
    });
  });
  return r;
}

// Backward: dx (N, C) += (softmax(xᵢ) − onehot(tᵢ)) · wᵢ · gᵢ / denom, g = gy (N) or the scalar gy.
static void cross_entropy_backward(const Tensor& x, const Tensor& gy, Tensor& dx, std::span<const int64_t> t,
                                   const std::vector<double>& w, const CrossEntropyRows& rows, double denom,
                                   Reduction reduction) {
  const int64_t N = x.size(0), C = x.size(1);
  dispatch(dx.dtype(), [&]<typename T>(T) {
    const T* px = x.data<T>();
    const T* pg = gy.data<T>();
    T* pd = dx.data<T>();
    parallel_chunks(N, row_grain(C), [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        if (w[size_t(i)] == 0) continue;
        const double gi = double(reduction == Reduction::none ? pg[i] : pg[0]);
        const T coef = T(w[size_t(i)] * gi / denom);
        const T m = T(rows.max[size_t(i)]), ls = T(rows.ls[size_t(i)]);
        const T* row = px + i * C;
        T* drow = pd + i * C;
        for (int64_t c = 0; c < C; ++c) drow[c] += std::exp((row[c] - m) - ls) * coef;
        drow[t[size_t(i)]] -= coef;
      }
    });
  });
}

// Shared body of both cross_entropy overloads. `weights` is null for the ignore_index overload,
// which then honours ignore_index; with weights there is no ignore index.
//
// lossᵢ = wᵢ · (logsumexp(xᵢ) − xᵢ,tᵢ); mean = Σ lossᵢ / Σ wᵢ, sum = Σ lossᵢ, none = (lossᵢ);
// dxᵢ += (softmax(xᵢ) − onehot(tᵢ)) · wᵢ · gᵢ / denominator.
// Rows with weight 0 (or target == ignore_index) take no part: their targets are not validated
// (a padding position may hold any value), their loss is 0 and no gradient reaches them.
// Like PyTorch, the mean over zero effective rows (all ignored, or all weights 0) is NaN = 0/0,
// and its gradient is zero.
static Var cross_entropy_impl(const Var& logits, std::span<const int64_t> targets, const Tensor* weights,
                              int64_t ignore_index, Reduction reduction) {
  std::vector<int64_t> t(targets.begin(), targets.end());
  std::vector<double> w = cross_entropy_weights(logits, t, weights, ignore_index);
  CrossEntropyRows rows = cross_entropy_rows(logits.value(), t, w);
  const int64_t N = logits.shape()[0];

  double denom = 1;
  Tensor y;
  if (reduction == Reduction::none) {
    y = Tensor::from(Shape{N}, rows.loss, logits.dtype());
  } else {
    double total = 0, wsum = 0;
    for (int64_t i = 0; i < N; ++i) {  // sequential: a fixed summation order
      total += rows.loss[size_t(i)];
      wsum += w[size_t(i)];
    }
    if (reduction == Reduction::mean) denom = wsum;
    y = Tensor::scalar(reduction == Reduction::mean ? total / wsum : total, logits.dtype());
  }

  return logits.tape().record(
      "cross_entropy", std::move(y), {logits},
      [logits, t = std::move(t), w = std::move(w), rows = std::move(rows), denom, reduction](GradContext& g) {
        cross_entropy_backward(logits.value(), g.out(), g.grad_of(logits), t, w, rows, denom, reduction);
      });
}

Var cross_entropy(const Var& logits, std::span<const int64_t> targets, int64_t ignore_index, Reduction reduction) {
  return cross_entropy_impl(logits, targets, nullptr, ignore_index, reduction);
}

Var cross_entropy(const Var& logits, std::span<const int64_t> targets, const Tensor& row_weights, Reduction reduction) {
  return cross_entropy_impl(logits, targets, &row_weights, 0, reduction);
}

// y = mean/sum/none of (p − t)²;  dp += 2 (p − t) · g (/ n for mean), dt −= the same
Var mse(const Var& prediction, const Var& target, Reduction reduction) {
  const Tensor &p = prediction.value(), &q = target.value();
  if (!(p.shape() == q.shape()))
    throw std::invalid_argument("mse: shapes " + p.shape().str() + " and " + q.shape().str() + " differ");
  if (p.dtype() != q.dtype())
    throw std::invalid_argument("mse: dtypes " + p.describe() + " and " + q.describe() + " differ");
  Tensor diff = map2(
      p, q, [](auto a, auto b) { return a - b; }, "mse");
  Tensor sq = kernels::map(diff, [](auto d) { return d * d; });
  const double n = double(p.numel());
  Tensor y = reduction == Reduction::none  ? sq
             : reduction == Reduction::sum ? kernels::sum_all(sq)
                                           : Tensor::scalar(kernels::sum_all(sq).item() / n, p.dtype());
  return prediction.tape().record(
      "mse", std::move(y), {prediction, target}, [prediction, target, diff, n, reduction](GradContext& g) {
        Tensor dp = reduction == Reduction::none
                        ? map2(
                              g.out(), diff, [](auto gy, auto d) { return 2 * gy * d; }, "mse backward")
                        : kernels::scale(diff, (reduction == Reduction::mean ? 2.0 / n : 2.0) * g.out().item());
        if (g.wants(target)) g.accumulate(target, kernels::scale(dp, -1.0));
        g.accumulate(prediction, std::move(dp));
      });
}

// y = x ⊙ mask, mask ∈ {0, 1/(1 − p)} with P(keep) = 1 − p drawn sequentially from rng;  dx += g ⊙ mask
Var dropout(const Var& x, double p, Rng& rng, bool training) {
  if (!(p >= 0 && p <= 1)) throw std::invalid_argument("dropout: p must be in [0, 1], got " + num(p));
  if (!training || p == 0) return x;
  // p == 1 keeps nothing: the scale is irrelevant, and 0 avoids 0 · inf = NaN.
  const double keep_scale = p == 1 ? 0.0 : 1.0 / (1.0 - p);
  Tensor mask = kernels::scale(Tensor::bernoulli(x.shape(), rng, 1.0 - p, x.dtype()), keep_scale);
  Tensor y = map2(
      x.value(), mask, [](auto v, auto k) { return v * k; }, "dropout");
  return x.tape().record("dropout", std::move(y), {x}, [x, mask](GradContext& g) {
    g.accumulate(x, map2(
                        g.out(), mask, [](auto gy, auto k) { return gy * k; }, "dropout backward"));
  });
}

}  // namespace seqgrad
