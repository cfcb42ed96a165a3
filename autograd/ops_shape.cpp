// Shapes and indexing. reshape is a view; every other op copies. An axis splits a tensor into an
// (outer, n, inner) view, so each op is a strided row copy; backward scatters g back and ADDS.
#include <algorithm>
#include <string>
#include <vector>

#include "autograd/kernels.h"
#include "autograd/ops.h"

namespace seqgrad {

static std::string str(int64_t v) { return std::to_string(v); }

// body(r, b, e) for each row r < rows and column range [b, e) of a row of `len` elements. Long
// rows are cut into pieces of about kElementGrain, so a few long rows still spread over threads.
// Each (row, piece) is one task, so every destination element is written by exactly one thread.
template <typename Body>
static void for_row_pieces(int64_t rows, int64_t len, Body&& body) {
  const int64_t parts = std::max<int64_t>(1, len / kernels::kElementGrain);
  const int64_t piece = (len + parts - 1) / parts;
  const int64_t grain = std::max<int64_t>(1, kernels::kElementGrain / std::max<int64_t>(1, piece));
  kernels::parallel_chunks(rows * parts, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t b = (t % parts) * piece, e = std::min(len, b + piece);
      if (b < e) body(t / parts, b, e);
    }
  });
}

// dst[r, dst_off + i] (+)= src[r, src_off + i] for r < rows, i < len, where a row of src holds
// src_row elements and one of dst holds dst_row: the copy behind slice, concat and stack.
template <bool kAdd>
static void copy_rows(const Tensor& src, int64_t src_row, int64_t src_off, Tensor& dst, int64_t dst_row,
                      int64_t dst_off, int64_t rows, int64_t len) {
  if (rows == 0 || len == 0) return;
  dispatch(dst.dtype(), [&]<typename T>(T) {
    const T* ps = src.data<T>() + src_off;
    T* pd = dst.data<T>() + dst_off;
    for_row_pieces(rows, len, [&](int64_t r, int64_t b, int64_t e) {
      const T* s = ps + r * src_row;
      T* d = pd + r * dst_row;
      if constexpr (kAdd) {
        for (int64_t i = b; i < e; ++i) d[i] += s[i];
      } else {
        std::copy(s + b, s + e, d + b);
      }
    });
  });
}

// y = x viewed with new dims (shared storage);  dx += g viewed with x's dims
Var reshape(const Var& x, std::span<const int64_t> dims) {
  Tensor y = x.value().reshape(dims);
  return x.tape().record("reshape", std::move(y), {x}, [x](GradContext& g) {
    // Hand g itself on (its node frees it next): adopted by x, not cloned.
    Tensor r = g.take_out();
    r = r.reshape(x.shape());  // drops the old handle: r is r's only owner
    g.accumulate(x, std::move(r));
  });
}

// dst[a, j, b, i, c] (+)= src[a, i, b, j, c] with src viewed as (A, P, B, Q, C): swaps the P and Q
// axes. Parallel over the A·Q destination slabs, each written by one task.
template <bool kAdd>
static void swap_axes(const Tensor& src, Tensor& dst, int64_t A, int64_t P, int64_t B, int64_t Q, int64_t C) {
  if (src.numel() == 0) return;
  dispatch(dst.dtype(), [&]<typename T>(T) {
    const T* ps = src.data<T>();
    T* pd = dst.data<T>();
    const int64_t slab = B * P * C;
    kernels::parallel_chunks(A * Q, std::max<int64_t>(1, kernels::kElementGrain / slab), [&](int64_t lo, int64_t hi) {
      for (int64_t aj = lo; aj < hi; ++aj) {
        const int64_t a = aj / Q, j = aj % Q;
        T* d = pd + aj * slab;  // dst[a, j, :, :, :]
        for (int64_t b = 0; b < B; ++b)
          for (int64_t i = 0; i < P; ++i) {
            const T* s = ps + (((a * P + i) * B + b) * Q + j) * C;
            T* di = d + (b * P + i) * C;
            for (int64_t c = 0; c < C; ++c) {
              if constexpr (kAdd) di[c] += s[c];
              else di[c] = s[c];
            }
          }
      }
    });
  });
}

// y = x with axes axis0 and axis1 swapped (a copy);  dx += g with the axes swapped back
Var transpose(const Var& x, int axis0, int axis1) {
  const Shape& s = x.shape();
  int a0 = s.axis(axis0, "transpose"), a1 = s.axis(axis1, "transpose");
  if (a0 > a1) std::swap(a0, a1);
  Shape ys = s.with(a0, s[a1]).with(a1, s[a0]);
  const int64_t A = s.prod(0, a0), P = s[a0], B = a0 == a1 ? 1 : s.prod(a0 + 1, a1), Q = a0 == a1 ? 1 : s[a1],
                C = s.prod(a1 + 1, s.rank());
  Tensor y(ys, x.dtype());
  swap_axes<false>(x.value(), y, A, P, B, Q, C);
  return x.tape().record("transpose", std::move(y), {x},
                         [x, A, P, B, Q, C](GradContext& g) { swap_axes<true>(g.out(), g.grad_of(x), A, Q, B, P, C); });
}

// y = x[..., start:end, ...] along axis;  dx[..., start:end, ...] += g
Var slice(const Var& x, int axis, int64_t start, int64_t end) {
  const Shape& s = x.shape();
  const int a = s.axis(axis, "slice");
  const int64_t n = s[a];
  if (start < 0 || start > end || end > n)
    throw std::invalid_argument("slice: [" + str(start) + ", " + str(end) + ") is not a range within [0, " + str(n) +
                                ") along axis " + str(axis) + " of shape " + s.str());
  const int64_t outer = s.prod(0, a), inner = s.prod(a + 1, s.rank()), len = (end - start) * inner;
  Tensor y(s.with(a, end - start), x.dtype());
  copy_rows<false>(x.value(), n * inner, start * inner, y, len, 0, outer, len);
  return x.tape().record("slice", std::move(y), {x}, [x, outer, n, inner, start, len](GradContext& g) {
    copy_rows<true>(g.out(), len, 0, g.grad_of(x), n * inner, start * inner, outer, len);
  });
}

// [x[.., 0:s₀, ..], x[.., s₀:s₀+s₁, ..], ...] along axis (each part a slice)
std::vector<Var> split(const Var& x, std::span<const int64_t> sizes, int axis) {
  const Shape& s = x.shape();
  const int a = s.axis(axis, "split");
  int64_t total = 0;
  for (int64_t k : sizes) {
    if (k < 0) throw std::invalid_argument("split: negative size " + str(k) + " for shape " + s.str());
    total += k;
  }
  if (total != s[a])
    throw std::invalid_argument("split: sizes sum to " + str(total) + " but axis " + str(axis) + " of shape " +
                                s.str() + " has " + str(s[a]));
  std::vector<Var> parts;
  parts.reserve(sizes.size());
  int64_t start = 0;
  for (int64_t k : sizes) {
    parts.push_back(slice(x, a, start, start + k));
    start += k;
  }
  return parts;
}

// n equal slices along axis
std::vector<Var> chunk(const Var& x, int n, int axis) {
  const Shape& s = x.shape();
  const int a = s.axis(axis, "chunk");
  if (n <= 0 || s[a] % n != 0)
    throw std::invalid_argument("chunk: axis " + str(axis) + " of shape " + s.str() + " (size " + str(s[a]) +
                                ") is not divisible into " + str(n) + " equal parts");
  const int64_t k = s[a] / n;
  std::vector<Var> parts;
  parts.reserve(size_t(n));
  for (int i = 0; i < n; ++i) parts.push_back(slice(x, a, i * k, (i + 1) * k));
  return parts;
}

static std::string shapes_of(std::span<const Var> xs) {
  std::string r;
  for (const Var& x : xs) r += (r.empty() ? "" : ", ") + x.value().describe();
  return r;
}

// y (outer, Σ wᵢ) = [x₀ | x₁ | ...] with each xᵢ viewed as (outer, wᵢ): the kernel of concat and stack.
// Backward hands each input its block of columns of g.
static Var join(const char* op, std::span<const Var> xs, const Shape& out, int64_t outer) {
  Tensor y(out, xs[0].dtype());
  const int64_t row = outer ? out.numel() / outer : 0;
  int64_t off = 0;
  for (const Var& x : xs) {
    const int64_t w = outer ? x.value().numel() / outer : 0;
    copy_rows<false>(x.value(), w, 0, y, row, off, outer, w);
    off += w;
  }
  return xs[0].tape().record(op, std::move(y), xs,
                             [xs = std::vector<Var>(xs.begin(), xs.end()), outer, row](GradContext& g) {
                               int64_t g_off = 0;
                               for (const Var& x : xs) {
                                 const int64_t w = outer ? x.value().numel() / outer : 0;
                                 if (g.wants(x)) copy_rows<true>(g.out(), row, g_off, g.grad_of(x), w, 0, outer, w);
                                 g_off += w;
                               }
                             });
}

// y = [x₀, x₁, ...] joined along axis;  dxᵢ += g[.., offᵢ:offᵢ+nᵢ, ..]
Var concat(std::span<const Var> xs, int axis) {
  if (xs.empty()) throw std::invalid_argument("concat: needs at least one input");
  const Shape& s0 = xs[0].shape();
  const int a = s0.axis(axis, "concat");
  int64_t total = 0;
  for (const Var& x : xs) {
    const Shape& s = x.shape();
    if (x.dtype() != xs[0].dtype() || s.rank() != s0.rank() || !(s.with(a, 0) == s0.with(a, 0)))
      throw std::invalid_argument("concat: inputs " + shapes_of(xs) +
                                  " differ in dtype, rank or a size other than axis " + str(axis));
    total += s[a];
  }
  return join("concat", xs, s0.with(a, total), s0.prod(0, a));
}

// y = [x₀, x₁, ...] along a new axis;  dxᵢ += g[.., i, ..]
Var stack(std::span<const Var> xs, int axis) {
  if (xs.empty()) throw std::invalid_argument("stack: needs at least one input");
  const Shape& s0 = xs[0].shape();
  const int r = s0.rank() + 1, a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r)
    throw std::invalid_argument("stack: axis " + str(axis) + " out of range for stacking tensors of shape " + s0.str());
  for (const Var& x : xs)
    if (x.dtype() != xs[0].dtype() || !(x.shape() == s0))
      throw std::invalid_argument("stack: inputs " + shapes_of(xs) + " differ in shape or dtype");
  Shape out;
  for (int i = 0; i < r; ++i) out.push_back(i < a ? s0[i] : i == a ? int64_t(xs.size()) : s0[i - 1]);
  return join("stack", xs, out, s0.prod(0, a));
}

// y[.., t, ..] = x[.., indices[t], ..] along axis;  dx[.., indices[t], ..] += g[.., t, ..] (repeats add up)
Var index_select(const Var& x, int axis, std::span<const int64_t> indices) {
  const Shape& s = x.shape();
  const int a = s.axis(axis, "index_select");
  const int64_t n = s[a], outer = s.prod(0, a), inner = s.prod(a + 1, s.rank()), k = int64_t(indices.size());
  for (int64_t i : indices)
    if (i < 0 || i >= n)
      throw std::invalid_argument("index_select: index " + str(i) + " out of range for size " + str(n) +
                                  " along axis " + str(axis) + " of shape " + s.str());
  Tensor y(s.with(a, k), x.dtype());
  if (y.numel()) {
    dispatch(x.dtype(), [&]<typename T>(T) {
      const T* px = x.value().data<T>();
      T* py = y.data<T>();
      for_row_pieces(outer * k, inner, [&](int64_t ot, int64_t b, int64_t e) {
        const T* src = px + ((ot / k) * n + indices[size_t(ot % k)]) * inner;
        std::copy(src + b, src + e, py + ot * inner + b);
      });
    });
  }
  // Backward owns a destination (outer row, column piece) per task and walks indices in order, so
  // repeated indices add up in a fixed order at any thread count.
  return x.tape().record(
      "index_select", std::move(y), {x},
      [x, idx = std::vector<int64_t>(indices.begin(), indices.end()), n, k, outer, inner](GradContext& g) {
        if (g.out().numel() == 0) return;
        Tensor& gx = g.grad_of(x);
        dispatch(gx.dtype(), [&]<typename T>(T) {
          const T* pg = g.out().data<T>();
          T* pd = gx.data<T>();
          for_row_pieces(outer, inner, [&](int64_t o, int64_t b, int64_t e) {
            for (int64_t t = 0; t < k; ++t) {
              const T* src = pg + (o * k + t) * inner;
              T* dst = pd + (o * n + idx[size_t(t)]) * inner;
              for (int64_t c = b; c < e; ++c) dst[c] += src[c];
            }
          });
        });
      });
}

}  // namespace seqgrad
