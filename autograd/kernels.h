// Elementwise, broadcasting and reduction kernels over Tensors, templated on the element type and
// parallelised with TBB over fixed chunks. Every output element is computed by one sequential loop
// in a fixed order, and full reductions use fixed blocks, so results are bitwise identical at any
// thread count. The built-in ops (ops_*.cpp) are written on top of these, and so is a user's own op
// (README, "Writing a new op"; tests/test_custom_op.cpp): map/map2/map3 with a generic lambda give
// its forward and backward for float32 and float64 at once.
#pragma once

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/tensor.h"

namespace seqgrad::kernels {

// Below this many elements an elementwise loop runs on the calling thread. 8192 (was 32768) so that
// a recurrent step's (B, H) = (64, 256) gates and states split over 2 threads: those ops were the
// serial quarter of a 2-thread LSTM/GRU train step (about -6% at B64 T100 H256, issue 11).
constexpr int64_t kElementGrain = 8192;

// body(begin, end) over [0, n) in chunks of `grain`; inline when n <= grain.
template <typename Body>
void parallel_chunks(int64_t n, int64_t grain, Body&& body) {
  if (n <= grain) {
    if (n > 0) body(int64_t(0), n);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, n, grain), [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); },
      tbb::simple_partitioner());
}

inline void require_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  if (a.dtype() != b.dtype())
    throw std::invalid_argument(std::string(op) + ": dtypes differ, " + a.describe() + " and " + b.describe());
}
inline void require_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  require_same_dtype(a, b, op);
  if (!(a.shape() == b.shape()))
    throw std::invalid_argument(std::string(op) + ": shapes differ, " + a.shape().str() + " and " + b.shape().str());
}

// y[i] = f(x[i]); f is a generic lambda called with the element type.
template <typename F>
Tensor map(const Tensor& x, F f) {
  Tensor y(x.shape(), x.dtype());
  dispatch(x.dtype(), [&]<typename T>(T) {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    parallel_chunks(x.numel(), kElementGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) py[i] = f(px[i]);
    });
  });
  return y;
}

// y[i] = f(a[i], b[i]) for tensors of one shape (no broadcasting).
template <typename F>
Tensor map2(const Tensor& a, const Tensor& b, F f, const char* op = "map2") {
  require_same_shape(a, b, op);
  Tensor y(a.shape(), a.dtype());
  dispatch(a.dtype(), [&]<typename T>(T) {
    const T *pa = a.data<T>(), *pb = b.data<T>();
    T* py = y.data<T>();
    parallel_chunks(a.numel(), kElementGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) py[i] = f(pa[i], pb[i]);
    });
  });
  return y;
}

// y[i] = f(a[i], b[i], c[i]) for tensors of one shape.
template <typename F>
Tensor map3(const Tensor& a, const Tensor& b, const Tensor& c, F f, const char* op = "map3") {
  require_same_shape(a, b, op);
  require_same_shape(a, c, op);
  Tensor y(a.shape(), a.dtype());
  dispatch(a.dtype(), [&]<typename T>(T) {
    const T *pa = a.data<T>(), *pb = b.data<T>(), *pc = c.data<T>();
    T* py = y.data<T>();
    parallel_chunks(a.numel(), kElementGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) py[i] = f(pa[i], pb[i], pc[i]);
    });
  });
  return y;
}

// Strides (in elements) of `s` seen through the broadcast shape `out`: 0 along broadcast axes.
std::array<int64_t, Shape::kMaxRank> broadcast_strides(const Shape& s, const Shape& out);

// y = f(a, b) with NumPy broadcasting. Same shapes and scalar operands take flat fast paths.
template <typename F>
Tensor broadcast2(const Tensor& a, const Tensor& b, F f, const char* op) {
  require_same_dtype(a, b, op);
  if (a.shape() == b.shape()) return map2(a, b, f, op);
  Shape out = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor y(out, a.dtype());
  dispatch(a.dtype(), [&]<typename T>(T) {
    const T *pa = a.data<T>(), *pb = b.data<T>();
    T* py = y.data<T>();
    if (b.numel() == 1 && a.shape() == out) {
      const T s = pb[0];
      parallel_chunks(out.numel(), kElementGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) py[i] = f(pa[i], s);
      });
      return;
    }
    if (a.numel() == 1 && b.shape() == out) {
      const T s = pa[0];
      parallel_chunks(out.numel(), kElementGrain, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) py[i] = f(s, pb[i]);
      });
      return;
    }
    // General case: rows of the last axis; each row's input offsets from its multi-index.
    const int r = out.rank();
    const auto sa = broadcast_strides(a.shape(), out), sb = broadcast_strides(b.shape(), out);
    const int64_t inner = r ? out[r - 1] : 1, rows = out.numel() / std::max<int64_t>(inner, 1);
    const int64_t ia = r ? sa[r - 1] : 0, ib = r ? sb[r - 1] : 0;
    parallel_chunks(rows, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(inner, 1)),
                    [&](int64_t lo, int64_t hi) {
                      for (int64_t row = lo; row < hi; ++row) {
                        int64_t oa = 0, ob = 0, rem = row;
                        for (int d = r - 2; d >= 0; --d) {
                          int64_t idx = rem % out[d];
                          rem /= out[d];
                          oa += idx * sa[d];
                          ob += idx * sb[d];
                        }
                        T* yr = py + row * inner;
                        for (int64_t j = 0; j < inner; ++j) yr[j] = f(pa[oa + j * ia], pb[ob + j * ib]);
                      }
                    });
  });
  return y;
}

// Sums g over the axes along which `target` was broadcast to g's shape (the shared helper every
// broadcasting op's backward uses). Returns g itself when the shapes already match.
Tensor sum_to_shape(const Tensor& g, const Shape& target);

// dst += src (same shape and dtype).
void add_into(Tensor& dst, const Tensor& src);

// Sum over one axis: (outer, n, inner) -> (outer, inner), optionally keeping the axis as size 1.
Tensor sum_axis(const Tensor& x, int axis, bool keepdim);

// Sum of all elements in fixed blocks (f32 accumulates in double): a rank-0 tensor.
Tensor sum_all(const Tensor& x);

// y = alpha * x (a new tensor).
Tensor scale(const Tensor& x, double alpha);

// Float tanh and logistic over n contiguous values, branch-free so they vectorise (AVX-512 / AVX2 /
// baseline clones picked at load time). Why: libm's scalar tanhf/expf made the LSTM forward pass
// ~2/3 transcendental time. Cephes-style polynomials, within 2 ulp of libm; every clone runs the
// same IEEE operations in the same order (no FMA contraction), so the bits do not depend on the
// CPU's ISA or the thread count. NaN propagates; float64 keeps std::tanh / std::exp (gradcheck).
void tanh_f32(const float* x, float* y, int64_t n);
void sigmoid_f32(const float* x, float* y, int64_t n);

}  // namespace seqgrad::kernels
