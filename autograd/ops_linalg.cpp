// matmul and the fused affine primitive, both on the packed GEMM (gemm.h). Backward accumulates
// straight into the inputs' gradient storage with beta = 1, so no temporaries are made.
#include <array>

#include "autograd/gemm.h"
#include "autograd/kernels.h"
#include "autograd/ops.h"

namespace seqgrad {

static std::string shapes2(const Var& a, const Var& b) { return a.shape().str() + " x " + b.shape().str(); }

// C (M×N) (+)= op(A)·op(B) on Tensors holding row-major matrices (views of any rank).
static void gemm_into(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const Tensor& A, const Tensor& B, double beta,
                      Tensor& C, int64_t a_off = 0, int64_t b_off = 0, int64_t c_off = 0) {
  dispatch(C.dtype(), [&]<typename T>(T) {
    kernels::gemm<T>(ta, tb, M, N, K, A.data<T>() + a_off, ta ? M : K, B.data<T>() + b_off, tb ? K : N, T(beta),
                     C.data<T>() + c_off, N);
  });
}

// y = a·b, per batch when 3-D;  da += g·bᵀ, db += aᵀ·g
Var matmul(const Var& a, const Var& b) {
  const Shape &sa = a.shape(), &sb = b.shape();
  kernels::require_same_dtype(a.value(), b.value(), "matmul");
  const bool batched = sa.rank() == 3 && sb.rank() == 3;
  if (!batched && (sa.rank() != 2 || sb.rank() != 2))
    throw std::invalid_argument("matmul: " + shapes2(a, b) + ": needs two 2-D or two 3-D tensors");
  const int64_t batch = batched ? sa[0] : 1, M = sa[sa.rank() - 2], K = sa[sa.rank() - 1], N = sb[sb.rank() - 1];
  if (sb[sb.rank() - 2] != K) throw std::invalid_argument("matmul: " + shapes2(a, b) + ": inner dimensions differ");
  if (batched && sb[0] != batch) throw std::invalid_argument("matmul: " + shapes2(a, b) + ": batch sizes differ");
  Tensor y(batched ? Shape{batch, M, N} : Shape{M, N}, a.dtype());
  for (int64_t i = 0; i < batch; ++i)
    gemm_into(false, false, M, N, K, a.value(), b.value(), 0, y, i * M * K, i * K * N, i * M * N);
  return a.tape().record("matmul", std::move(y), {a, b}, [a, b, batch, M, N, K](GradContext& g) {
    for (int64_t i = 0; i < batch; ++i) {
      if (g.wants(a))
        gemm_into(false, true, M, K, N, g.out(), b.value(), 1, g.grad_of(a), i * M * N, i * K * N, i * M * K);
      if (g.wants(b))
        gemm_into(true, false, K, N, M, a.value(), g.out(), 1, g.grad_of(b), i * M * K, i * M * N, i * K * N);
    }
  });
}

static void check_affine(std::span<const AffineTerm> terms, const Var& b) {
  if (terms.empty()) throw std::invalid_argument("affine: needs at least one (x, W) term");
  const Shape &x0 = terms[0].x.shape(), &w0 = terms[0].W.shape();
  const int64_t B = x0.rank() == 2 ? x0[0] : -1, O = w0.rank() == 2 ? w0[0] : -1;
  for (const AffineTerm& t : terms) {
    const Shape &sx = t.x.shape(), &sw = t.W.shape();
    if (sx.rank() != 2 || sw.rank() != 2 || sx[1] != sw[1] || sx[0] != B || sw[0] != O)
      throw std::invalid_argument("affine: term x " + sx.str() + ", W " + sw.str() +
                                  ": needs x (B, I) and W (O, I) with the B and O of the first term, x " + x0.str() +
                                  " and W " + w0.str());
    kernels::require_same_dtype(terms[0].x.value(), t.x.value(), "affine");
    kernels::require_same_dtype(t.x.value(), t.W.value(), "affine");
  }
  if (b.defined() && !(b.shape() == Shape{O}))
    throw std::invalid_argument("affine: bias " + b.shape().str() + " should be (" + std::to_string(O) + ")");
  if (b.defined()) kernels::require_same_dtype(terms[0].x.value(), b.value(), "affine");
}

// y = b + Σᵢ xᵢ·Wᵢᵀ;  dxᵢ += g·Wᵢ, dWᵢ += gᵀ·xᵢ, db += Σ_rows g
template <typename Terms>
static Var record_affine(Tensor y, std::span<const Var> inputs, Terms terms, size_t n, Var b) {
  return inputs[0].tape().record("affine", std::move(y), inputs, [terms, n, b](GradContext& g) {
    const int64_t B = g.out().shape()[0], O = g.out().shape()[1];
    for (size_t i = 0; i < n; ++i) {
      const AffineTerm& t = terms[i];
      const int64_t I = t.x.shape()[1];
      if (g.wants(t.x)) gemm_into(false, false, B, I, O, g.out(), t.W.value(), 1, g.grad_of(t.x));
      if (g.wants(t.W)) gemm_into(true, false, O, I, B, g.out(), t.x.value(), 1, g.grad_of(t.W));
    }
    if (b.defined() && g.wants(b)) g.accumulate(b, kernels::sum_to_shape(g.out(), b.shape()));
  });
}

Var affine(std::span<const AffineTerm> terms, const Var& b) {
  check_affine(terms, b);
  const int64_t B = terms[0].x.shape()[0], O = terms[0].W.shape()[0];
  Tensor y(Shape{B, O}, terms[0].x.dtype());
  if (b.defined()) {
    dispatch(y.dtype(), [&]<typename T>(T) {
      const T* pb = b.value().data<T>();
      T* py = y.data<T>();
      for (int64_t r = 0; r < B; ++r) std::copy(pb, pb + O, py + r * O);
    });
  }
  for (size_t i = 0; i < terms.size(); ++i) {
    const AffineTerm& t = terms[i];
    gemm_into(false, true, B, O, t.x.shape()[1], t.x.value(), t.W.value(), (b.defined() || i > 0) ? 1 : 0, y);
  }
  // The recurrent case (x·W + h·U + b) stays allocation-free: inputs and captures live inline.
  constexpr size_t kInlineTerms = 2;
  auto collect = [&](auto& inputs) {
    size_t k = 0;
    for (const AffineTerm& t : terms) inputs[k++] = t.x, inputs[k++] = t.W;
    if (b.defined()) inputs[k++] = b;
    return std::span<const Var>(inputs.data(), k);
  };
  if (terms.size() <= kInlineTerms) {
    std::array<Var, 2 * kInlineTerms + 1> inputs;
    std::array<AffineTerm, kInlineTerms> captured;
    std::copy(terms.begin(), terms.end(), captured.begin());
    return record_affine(std::move(y), collect(inputs), captured, terms.size(), b);
  }
  std::vector<Var> inputs(2 * terms.size() + 1);
  return record_affine(std::move(y), collect(inputs), std::vector<AffineTerm>(terms.begin(), terms.end()), terms.size(),
                       b);
}

}  // namespace seqgrad
