// Non-template kernels: broadcast reduction, in-place add, axis and full sums.
#include "autograd/kernels.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace seqgrad::kernels {

std::array<int64_t, Shape::kMaxRank> broadcast_strides(const Shape& s, const Shape& out) {
  std::array<int64_t, Shape::kMaxRank> strides{};
  int64_t stride = 1;
  for (int d = out.rank() - 1, k = s.rank() - 1; d >= 0; --d, --k) {
    if (k >= 0 && s[k] != 1) {
      strides[size_t(d)] = stride;
      stride *= s[k];
    }
  }
  return strides;
}

// The (rows, cols) view of g when target equals g's trailing axes after dropping leading ones:
// then the reduction is "sum the rows". Returns false otherwise.
static bool leading_reduction(const Shape& g, const Shape& target, int64_t* rows, int64_t* cols) {
  int first = 0;  // target's leading 1s reduce like missing axes
  while (first < target.rank() && target[first] == 1) ++first;
  const int kept = target.rank() - first;
  if (kept > g.rank()) return false;
  for (int i = 0; i < kept; ++i)
    if (target[first + i] != g[g.rank() - kept + i]) return false;
  *cols = g.prod(g.rank() - kept, g.rank());
  *rows = g.prod(0, g.rank() - kept);
  return true;
}

Tensor sum_to_shape(const Tensor& g, const Shape& target) {
  if (g.shape() == target) return g;
  if (target.numel() == 0 || g.numel() == 0) return Tensor::zeros(target, g.dtype());
  broadcast_shapes(target, g.shape(), "sum_to_shape");  // validates
  Tensor out = Tensor::zeros(target, g.dtype());
  dispatch(g.dtype(), [&]<typename T>(T) {
    const T* pg = g.data<T>();
    T* po = out.data<T>();
    int64_t rows = 0, cols = 0;
    if (leading_reduction(g.shape(), target, &rows, &cols)) {
      // Each output column sums its rows in order; columns are split among threads.
      parallel_chunks(cols, 4096, [&](int64_t lo, int64_t hi) {
        for (int64_t r = 0; r < rows; ++r) {
          const T* gr = pg + r * cols;
          for (int64_t c = lo; c < hi; ++c) po[c] += gr[c];
        }
      });
      return;
    }
    // General case: one sequential pass over g in index order.
    const Shape& gs = g.shape();
    const auto so = broadcast_strides(target, gs);
    const int r = gs.rank();
    std::array<int64_t, Shape::kMaxRank> idx{};
    for (int64_t i = 0, n = g.numel(); i < n; ++i) {
      int64_t off = 0;
      for (int d = 0; d < r; ++d) off += idx[size_t(d)] * so[size_t(d)];
      po[off] += pg[i];
      for (int d = r - 1; d >= 0; --d) {
        if (++idx[size_t(d)] < gs[d]) break;
        idx[size_t(d)] = 0;
      }
    }
  });
  return out;
}

void add_into(Tensor& dst, const Tensor& src) {
  require_same_shape(dst, src, "add_into");
  dispatch(dst.dtype(), [&]<typename T>(T) {
    T* pd = dst.data<T>();
    const T* ps = src.data<T>();
    parallel_chunks(dst.numel(), kElementGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) pd[i] += ps[i];
    });
  });
}

namespace {

// The sum of x[0, n) in double, as kSumLanes independent chains (lane l adds the elements i ≡ l mod
// kSumLanes, in order) merged by a fixed pairwise tree: several adds in flight instead of one
// dependency chain, and the same operations in the same order on every machine and thread count.
constexpr int kSumLanes = 8;
template <typename T>
double sum_lanes(const T* x, int64_t n) {
  double lane[kSumLanes] = {};
  int64_t i = 0;
  for (; i + kSumLanes <= n; i += kSumLanes)
    for (int l = 0; l < kSumLanes; ++l) lane[l] += double(x[i + l]);
  for (int l = 0; i < n; ++i, ++l) lane[l] += double(x[i]);
  for (int w = kSumLanes / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; ++l) lane[l] += lane[l + w];
  return lane[0];
}

}  // namespace

Tensor sum_axis(const Tensor& x, int axis, bool keepdim) {
  const Shape& s = x.shape();
  int a = s.axis(axis, "sum");
  const int64_t outer = s.prod(0, a), n = s[a], inner = s.prod(a + 1, s.rank());
  Tensor y = Tensor::zeros(keepdim ? s.with(a, 1) : s.without(a), x.dtype());
  dispatch(x.dtype(), [&]<typename T>(T) {
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const int64_t grain = std::max<int64_t>(1, kElementGrain / std::max<int64_t>(1, n * inner));
    parallel_chunks(outer, grain, [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o) {
        if (inner == 1) {  // a contiguous row: lanes, not one chain through memory
          py[o] = T(sum_lanes(px + o * n, n));
          continue;
        }
        T* __restrict yo = py + o * inner;
        for (int64_t k = 0; k < n; ++k) {
          const T* __restrict xk = px + (o * n + k) * inner;
          for (int64_t i = 0; i < inner; ++i) yo[i] += xk[i];
        }
      }
    });
  });
  return y;
}

Tensor sum_all(const Tensor& x) {
  constexpr int64_t kBlock = 4096;
  const int64_t n = x.numel(), blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(size_t(blocks), 0.0);
  dispatch(x.dtype(), [&]<typename T>(T) {
    const T* px = x.data<T>();
    parallel_chunks(blocks, 8, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b)
        partial[size_t(b)] = sum_lanes(px + b * kBlock, std::min(kBlock, n - b * kBlock));
    });
  });
  double total = 0;
  for (double p : partial) total += p;
  return Tensor::scalar(total, x.dtype());
}

Tensor scale(const Tensor& x, double alpha) {
  return map(x, [alpha]<typename T>(T v) { return T(alpha) * v; });
}

namespace {

// e^x for x <= 0 (Cephes expf): x = n·ln2 + r, |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n
// through the exponent bits. Below -87.33 (where e^x is denormal) it returns 0.
inline float exp_nonpositive(float x) {
  const bool underflow = x < -87.3365f;  // false for NaN, which propagates
  x = underflow ? -87.3365f : x;
  x = x > -0x1p-26f ? 0.0f : x;          // e^x rounds to 1 there; and r² below would be a (slow) denormal
  constexpr float kRound = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
  const float t = x * 1.44269504089f + kRound;
  const float fn = t - kRound;
  const int32_t n = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kRound);
  const float r = (x - fn * 0.693359375f) - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * (r * r) + r + 1.0f;
  return underflow ? 0.0f : er * std::bit_cast<float>((n + 127) << 23);
}

}  // namespace

// AVX-512 / AVX2 / baseline clones, picked at load time by an ifunc resolver. ThreadSanitizer
// instruments that resolver, which then runs before its runtime is up and crashes the program at
// load: TSan builds keep the baseline clone only (every clone gives the same bits anyway).
#if defined(__SANITIZE_THREAD__)
#define SEQGRAD_CLONES
#else
#define SEQGRAD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

SEQGRAD_CLONES void tanh_f32(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i], z = std::fabs(v);
    // |x| < 2^-12: tanh x = x in float (x³/3 is below half an ulp). The arithmetic below then runs
    // on 0, not on x, whose square would be a denormal: microcode assists made tiny inputs ~2x
    // slower per op in a tape chain.
    const bool tiny = z < 0x1p-12f;
    const float w = tiny ? 0.0f : v, zw = tiny ? 0.0f : z;
    // |x| > 0.625: 1 − 2/(e^{2|x|} + 1) with the sign of x, via e^{−2|x|} (never overflows).
    const float e = exp_nonpositive(-2.0f * zw);
    const float big = (1.0f - e) / (1.0f + e);
    // |x| <= 0.625: odd polynomial (Cephes tanhf), accurate where 1 − 2/(e + 1) would cancel.
    const float z2 = w * w;
    float p = -5.70498872745e-3f;
    p = p * z2 + 2.06390887954e-2f;
    p = p * z2 - 5.37397155531e-2f;
    p = p * z2 + 1.33314422036e-1f;
    p = p * z2 - 3.33332819422e-1f;
    const float small = p * z2 * w + w;
    y[i] = z > 0.625f ? (v < 0 ? -big : big) : tiny ? v : small;  // NaN: neither test holds, small is NaN
  }
}

SEQGRAD_CLONES void sigmoid_f32(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    // Stable form: e = e^{−|x|} <= 1 never overflows; σ(x) = 1/(1 + e) for x >= 0, e/(1 + e) else.
    const float v = x[i], e = exp_nonpositive(-std::fabs(v));
    const float s = 1.0f / (1.0f + e);
    y[i] = v >= 0 ? s : e * s;  // NaN takes e·s = NaN
  }
}

}  // namespace seqgrad::kernels
