// Elementwise functions. tanh and sigmoid are primitives whose backward reuses the output y.
// Out-of-domain inputs give what PyTorch gives (log 0 = −inf, log −1 = NaN, (−8)^0.5 = NaN).
#include <sstream>

#include "autograd/kernels.h"
#include "autograd/ops.h"

namespace seqgrad {

using kernels::map;
using kernels::map2;

// A float kernel f(x, y, n) over x, in the same fixed chunks as kernels::map.
static Tensor float_map(const Tensor& x, void (*f)(const float*, float*, int64_t)) {
  Tensor y(x.shape(), x.dtype());
  const float* px = x.data<float>();
  float* py = y.data<float>();
  kernels::parallel_chunks(x.numel(), kernels::kElementGrain, [&](int64_t b, int64_t e) { f(px + b, py + b, e - b); });
  return y;
}

// y = tanh x;  dx += g ⊙ (1 − y²)
Var tanh(const Var& x) {
  Tensor y = x.dtype() == DType::f32 ? float_map(x.value(), kernels::tanh_f32)
                                     : map(x.value(), [](auto v) { return std::tanh(v); });
  return x.tape().record("tanh", std::move(y), {x}, [x](GradContext& g) {
    g.accumulate(x, map2(g.out(), g.value(), [](auto gy, auto t) { return gy * (1 - t * t); }));
  });
}

// Stable logistic: never exponentiates a positive number, so large |x| neither overflows nor NaNs.
template <typename T>
static T stable_sigmoid(T v) {
  if (v >= 0) return T(1) / (T(1) + std::exp(-v));
  T e = std::exp(v);
  return e / (T(1) + e);
}

// y = σ(x) = 1 / (1 + e^−x);  dx += g ⊙ y(1 − y)
Var sigmoid(const Var& x) {
  Tensor y = x.dtype() == DType::f32 ? float_map(x.value(), kernels::sigmoid_f32)
                                     : map(x.value(), [](auto v) { return stable_sigmoid(v); });
  return x.tape().record("sigmoid", std::move(y), {x}, [x](GradContext& g) {
    g.accumulate(x, map2(g.out(), g.value(), [](auto gy, auto s) { return gy * s * (1 - s); }));
  });
}

// y = eˣ;  dx += g ⊙ y
Var exp(const Var& x) {
  Tensor y = map(x.value(), [](auto v) { return std::exp(v); });
  return x.tape().record("exp", std::move(y), {x}, [x](GradContext& g) {
    g.accumulate(x, map2(g.out(), g.value(), [](auto gy, auto e) { return gy * e; }));
  });
}

// y = ln x;  dx += g / x
Var log(const Var& x) {
  Tensor y = map(x.value(), [](auto v) { return std::log(v); });
  return x.tape().record("log", std::move(y), {x}, [x](GradContext& g) {
    g.accumulate(x, map2(g.out(), x.value(), [](auto gy, auto v) { return gy / v; }));
  });
}

// y = √x;  dx += g / (2y)
Var sqrt(const Var& x) {
  Tensor y = map(x.value(), [](auto v) { return std::sqrt(v); });
  return x.tape().record("sqrt", std::move(y), {x}, [x](GradContext& g) {
    g.accumulate(x, map2(g.out(), g.value(), [](auto gy, auto r) { return gy / (r + r); }));
  });
}

// y = xᵖ;  dx += g ⊙ p·xᵖ⁻¹ (0 when p = 0, as in PyTorch, so x = 0 gives no 0·∞ NaN)
Var pow(const Var& x, double p) {
  Tensor y = map(x.value(), [p]<typename T>(T v) { return T(std::pow(v, T(p))); });
  return x.tape().record("pow", std::move(y), {x}, [x, p](GradContext& g) {
    g.accumulate(x, map2(g.out(), x.value(),
                         [p]<typename T>(T gy, T v) { return p == 0 ? T(0) : T(gy * T(p) * std::pow(v, T(p - 1))); }));
  });
}

// y = |x|;  dx += g ⊙ sign(x), with sign(0) = 0
Var abs(const Var& x) {
  Tensor y = map(x.value(), [](auto v) { return std::abs(v); });
  return x.tape().record("abs", std::move(y), {x}, [x](GradContext& g) {
    g.accumulate(x, map2(g.out(), x.value(), []<typename T>(T gy, T v) { return v > 0 ? gy : v < 0 ? -gy : T(0); }));
  });
}

// y = max(x, 0) (NaN stays NaN);  dx += g ⊙ [x > 0]
Var relu(const Var& x) {
  Tensor y = map(x.value(), []<typename T>(T v) { return v > 0 || v != v ? v : T(0); });
  return x.tape().record("relu", std::move(y), {x}, [x](GradContext& g) {
    g.accumulate(x, map2(g.out(), x.value(), []<typename T>(T gy, T v) { return v > 0 ? gy : T(0); }));
  });
}

// y = min(max(x, lo), hi) (NaN stays NaN);  dx += g ⊙ [lo < x < hi]
Var clamp(const Var& x, double lo, double hi) {
  if (lo > hi) {
    std::ostringstream msg;
    msg << "clamp: lo (" << lo << ") > hi (" << hi << ") for input " << x.value().describe();
    throw std::invalid_argument(msg.str());
  }
  Tensor y = map(x.value(), [lo, hi]<typename T>(T v) { return v < T(lo) ? T(lo) : v > T(hi) ? T(hi) : v; });
  return x.tape().record("clamp", std::move(y), {x}, [x, lo, hi](GradContext& g) {
    g.accumulate(
        x, map2(g.out(), x.value(), [lo, hi]<typename T>(T gy, T v) { return T(lo) < v && v < T(hi) ? gy : T(0); }));
  });
}

// out = cond ? a : b with the three operands broadcast to `out` (rows of the last axis, like
// kernels::broadcast2); one sequential loop per row, so the result is thread-count independent.
static Tensor select(const Tensor& cond, const Tensor& a, const Tensor& b, const Shape& out) {
  Tensor y(out, a.dtype());
  dispatch(a.dtype(), [&]<typename T>(T) {
    const T *pc = cond.data<T>(), *pa = a.data<T>(), *pb = b.data<T>();
    T* py = y.data<T>();
    const int r = out.rank();
    const auto sc = kernels::broadcast_strides(cond.shape(), out), sa = kernels::broadcast_strides(a.shape(), out),
               sb = kernels::broadcast_strides(b.shape(), out);
    const int64_t inner = r ? out[r - 1] : 1, rows = inner ? out.numel() / inner : 0;
    const int64_t ic = r ? sc[r - 1] : 0, ia = r ? sa[r - 1] : 0, ib = r ? sb[r - 1] : 0;
    kernels::parallel_chunks(rows, std::max<int64_t>(1, kernels::kElementGrain / std::max<int64_t>(inner, 1)),
                             [&](int64_t lo, int64_t hi) {
                               for (int64_t row = lo; row < hi; ++row) {
                                 int64_t oc = 0, oa = 0, ob = 0, rem = row;
                                 for (int d = r - 2; d >= 0; --d) {
                                   const int64_t idx = rem % out[d];
                                   rem /= out[d];
                                   oc += idx * sc[size_t(d)];
                                   oa += idx * sa[size_t(d)];
                                   ob += idx * sb[size_t(d)];
                                 }
                                 T* yr = py + row * inner;
                                 for (int64_t j = 0; j < inner; ++j)
                                   yr[j] = pc[oc + j * ic] != T(0) ? pa[oa + j * ia] : pb[ob + j * ib];
                               }
                             });
  });
  return y;
}

// y = cond ? a : b (cond nonzero = true), all three broadcast;  da += g ⊙ cond, db += g ⊙ ¬cond
Var where(const Tensor& cond, const Var& a, const Var& b) {
  kernels::require_same_dtype(cond, a.value(), "where");
  kernels::require_same_dtype(a.value(), b.value(), "where");
  Shape out;
  try {
    out = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("where: shapes " + cond.shape().str() + " (cond), " + a.shape().str() + " (a) and " +
                                b.shape().str() + " (b) are not broadcastable");
  }
  Tensor y = select(cond, a.value(), b.value(), out);
  return a.tape().record("where", std::move(y), {a, b}, [cond, a, b](GradContext& g) {
    const Tensor zero = Tensor::scalar(0.0, g.out().dtype());
    const Shape& s = g.out().shape();
    if (g.wants(a)) g.accumulate(a, select(cond, g.out(), zero, s));
    if (g.wants(b)) g.accumulate(b, select(cond, zero, g.out(), s));
  });
}

}  // namespace seqgrad
