// Dense matrix multiply C = beta·C + op(A)·op(B) for float and double, row-major with strides.
// Large products are cache-blocked with packed panels and an AVX-512 / AVX2+FMA / portable
// micro-kernel picked at runtime; tiny ones take a direct loop. Work is split across TBB threads
// over fixed blocks of C only (never over K), so the result is bitwise identical at any thread
// count. The environment variable SEQGRAD_GEMM_ISA=avx512|avx2|generic (read once) can force a
// lower kernel, e.g. to test the fallbacks on a newer CPU.
#pragma once

#include <cstdint>

namespace seqgrad::kernels {

// C(M×N) = beta·C + op(A)·op(B); op(A) is M×K, op(B) is K×N. Row-major; lda/ldb/ldc are row strides
// of the matrices as stored (A stored M×K when !trans_a, K×M when trans_a; same idea for B).
// beta is 0 (overwrite; C may hold garbage/NaN) or 1 (accumulate) — other values allowed too.
// C must not overlap A or B. Throws std::invalid_argument ("gemm: ...") on negative sizes, strides
// shorter than a row, or null pointers to non-empty matrices.
template <typename T>  // T = float or double (explicitly instantiated for both in gemm.cpp)
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
          T beta, T* C, int64_t ldc);

}  // namespace seqgrad::kernels
