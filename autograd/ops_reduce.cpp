// Reductions: sum, mean and max, over all elements or one axis. An axis reduction views x as
// (outer, n, inner) with n the reduced axis; backward spreads g back over the n positions.
#include <cmath>
#include <vector>

#include "autograd/kernels.h"
#include "autograd/ops.h"

namespace seqgrad {

namespace {

// x's shape seen as (outer, n, inner) around axis a.
struct AxisView {
  int64_t outer, n, inner;
};
AxisView view_around(const Shape& s, int a) { return {s.prod(0, a), s[a], s.prod(a + 1, s.rank())}; }

// dx (of shape s) with dx[o, k, i] = g[o, i] / divisor for every k: the backward of sum (divisor 1)
// and mean (divisor n). Rows (o, k) are split among threads; each element is written once.
Tensor expand(const Tensor& g, const Shape& s, AxisView v, double divisor) {
  Tensor dx(s, g.dtype());
  dispatch(g.dtype(), [&]<typename T>(T) {
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    const T d = T(divisor);
    kernels::parallel_chunks(v.outer * v.n,
                             std::max<int64_t>(1, kernels::kElementGrain / std::max<int64_t>(1, v.inner)),
                             [&](int64_t lo, int64_t hi) {
                               for (int64_t row = lo; row < hi; ++row) {
                                 const T* gr = pg + (row / std::max<int64_t>(1, v.n)) * v.inner;
                                 T* dr = pd + row * v.inner;
                                 for (int64_t i = 0; i < v.inner; ++i) dr[i] = gr[i] / d;
                               }
                             });
  });
  return dx;
}

// y = s / n elementwise (a new tensor); n = 0 gives NaN (0/0) like PyTorch's mean of nothing.
Tensor divide(const Tensor& s, int64_t n) {
  return kernels::map(s, [n]<typename T>(T v) { return v / T(n); });
}

}  // namespace

// y = Σᵢ xᵢ (a scalar);  dx += g broadcast
Var sum(const Var& x) {
  const Shape s = x.shape();
  return x.tape().record("sum", kernels::sum_all(x.value()), {x}, [x, s](GradContext& g) {
    g.accumulate(x, expand(g.out(), s, {1, s.numel(), 1}, 1.0));
  });
}

// y[o, i] = Σₖ x[o, k, i];  dx[o, k, i] += g[o, i]
Var sum(const Var& x, int axis, bool keepdim) {
  const Shape s = x.shape();
  const int a = s.axis(axis, "sum");
  return x.tape().record("sum", kernels::sum_axis(x.value(), a, keepdim), {x},
                         [x, s, a](GradContext& g) { g.accumulate(x, expand(g.out(), s, view_around(s, a), 1.0)); });
}

// y = Σᵢ xᵢ / N;  dx += g / N
Var mean(const Var& x) {
  const Shape s = x.shape();
  return x.tape().record("mean", divide(kernels::sum_all(x.value()), s.numel()), {x}, [x, s](GradContext& g) {
    g.accumulate(x, expand(g.out(), s, {1, s.numel(), 1}, double(s.numel())));
  });
}

// y[o, i] = Σₖ x[o, k, i] / n;  dx[o, k, i] += g[o, i] / n
Var mean(const Var& x, int axis, bool keepdim) {
  const Shape s = x.shape();
  const int a = s.axis(axis, "mean");
  return x.tape().record(
      "mean", divide(kernels::sum_axis(x.value(), a, keepdim), s[a]), {x},
      [x, s, a](GradContext& g) { g.accumulate(x, expand(g.out(), s, view_around(s, a), double(s[a]))); });
}

// y[o, i] = maxₖ x[o, k, i] (the first maximum; a NaN wins, like PyTorch);  dx[o, k*, i] += g[o, i]
Var max(const Var& x, int axis, bool keepdim) {
  const Shape s = x.shape();
  const int a = s.axis(axis, "max");
  if (s[a] == 0)
    throw std::invalid_argument("max: cannot reduce axis " + std::to_string(axis) + " of size 0 in shape " + s.str());
  const AxisView v = view_around(s, a);
  Tensor y(keepdim ? s.with(a, 1) : s.without(a), x.dtype());
  std::vector<int64_t> arg(size_t(v.outer * v.inner));  // k* for each (o, i)
  dispatch(x.dtype(), [&]<typename T>(T) {
    const T* px = x.value().template data<T>();
    T* py = y.data<T>();
    kernels::parallel_chunks(v.outer,
                             std::max<int64_t>(1, kernels::kElementGrain / std::max<int64_t>(1, v.n * v.inner)),
                             [&](int64_t lo, int64_t hi) {
                               for (int64_t o = lo; o < hi; ++o)
                                 for (int64_t i = 0; i < v.inner; ++i) {
                                   const T* xo = px + o * v.n * v.inner + i;
                                   int64_t best = 0;
                                   for (int64_t k = 1; k < v.n && xo[best * v.inner] == xo[best * v.inner]; ++k)
                                     if (xo[k * v.inner] > xo[best * v.inner] || xo[k * v.inner] != xo[k * v.inner])
                                       best = k;
                                   py[o * v.inner + i] = xo[best * v.inner];
                                   arg[size_t(o * v.inner + i)] = best;
                                 }
                             });
  });
  return x.tape().record("max", std::move(y), {x}, [x, v, arg = std::move(arg)](GradContext& g) {
    if (!g.wants(x)) return;
    Tensor& dx = g.grad_of(x);  // scatter-add straight into x's gradient: no full-size temporary
    dispatch(dx.dtype(), [&]<typename T>(T) {
      const T* pg = g.out().template data<T>();
      T* pd = dx.data<T>();
      for (int64_t o = 0; o < v.outer; ++o)
        for (int64_t i = 0; i < v.inner; ++i)
          pd[(o * v.n + arg[size_t(o * v.inner + i)]) * v.inner + i] += pg[o * v.inner + i];
    });
  });
}

}  // namespace seqgrad
