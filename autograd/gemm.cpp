// GEMM: blocked, packed, register-tiled; see gemm.h for the contract.
//
// Large-product structure (Goto/BLIS style, loops outermost first):
//   for each K block (kc <= kc_max, balanced; sequential):
//     pack op(A)[:, kblock] into MR-row micro-panels and op(B)[kblock, :] into NR-column
//     micro-panels (shared by all threads, packed in parallel);
//     parallel over fixed task tiles of C (task_m × task_n, chosen from the shape only):
//       for each MR-row panel of the tile (its A micro-panel stays in L1):
//         for each NR-column panel (the tile's B block stays in L2): micro-kernel.
// Each C element is thus a sequential FMA chain over its K block followed by one merge into C, in
// a fixed K-block order, no matter which thread runs which tile: bitwise deterministic.
#include "autograd/gemm.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#define SG_X86 1
#include <immintrin.h>
#else
#define SG_X86 0
#endif

namespace seqgrad::kernels {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// ---------------------------------------------------------------------------------------------
// Grow-only, 64-byte aligned scratch memory; one per thread and role, so steady-state calls
// never allocate.
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() { ::operator delete(data_, std::align_val_t(64)); }

  template <typename T>
  T* get(int64_t count) {
    const size_t bytes = size_t(count) * sizeof(T);
    if (bytes > bytes_) {
      ::operator delete(data_, std::align_val_t(64));
      data_ = nullptr;  // stays consistent if the allocation below throws
      bytes_ = 0;
      data_ = ::operator new(bytes, std::align_val_t(64));
      bytes_ = bytes;
    }
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Packing. A packed micro-panel of width W holds kc rows of W values (k-major): panel[k*W + w].
// A range of `width` columns becomes ceil(width/W) consecutive panels (panel p at dst + p*W*kc);
// columns past `width` in the last panel are zero so the micro-kernel always computes full tiles.

// Source rows are contiguous along w: dst column w, depth k = src[k*ld + w] (op(A) with trans_a,
// op(B) without trans_b). Walks the source row by row so reads stream through memory.
template <typename T, int W>
void pack_rows(const T* src, int64_t ld, int64_t width, int64_t kc, T* dst) {
  const int64_t full = width / W * W;
  for (int64_t k = 0; k < kc; ++k, src += ld) {
    for (int64_t j = 0; j < full; j += W) std::memcpy(dst + j * kc + k * W, src + j, sizeof(T) * W);
    if (full < width) {
      T* d = dst + full * kc + k * W;
      for (int64_t w = 0; w < W; ++w) d[w] = full + w < width ? src[full + w] : T(0);
    }
  }
}

// Transposes a kBlock×kBlock tile: dst[k*W + w] = src[w*ld + k] for w, k < kBlock. SSE2 (part of
// x86-64) 4×4 float / 2×2 double shuffles; portable loop elsewhere.
template <typename T, int W>
struct Transpose {
  static constexpr int kBlock = 4;
  static void tile(const T* src, int64_t ld, T* dst) {
    for (int w = 0; w < kBlock; ++w)
      for (int k = 0; k < kBlock; ++k) dst[k * W + w] = src[w * ld + k];
  }
};
#if SG_X86
template <int W>
struct Transpose<float, W> {
  static constexpr int kBlock = 4;
  static void tile(const float* src, int64_t ld, float* dst) {
    __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + ld);
    __m128 r2 = _mm_loadu_ps(src + 2 * ld), r3 = _mm_loadu_ps(src + 3 * ld);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(dst, r0);
    _mm_storeu_ps(dst + W, r1);
    _mm_storeu_ps(dst + 2 * W, r2);
    _mm_storeu_ps(dst + 3 * W, r3);
  }
};
template <int W>
struct Transpose<double, W> {
  static constexpr int kBlock = 2;
  static void tile(const double* src, int64_t ld, double* dst) {
    const __m128d r0 = _mm_loadu_pd(src), r1 = _mm_loadu_pd(src + ld);
    _mm_storeu_pd(dst, _mm_unpacklo_pd(r0, r1));
    _mm_storeu_pd(dst + W, _mm_unpackhi_pd(r0, r1));
  }
};
#endif

// One transposed panel: dst[k*W + w] = src[w*ld + k] for w < valid (<= W), zero beyond.
template <typename T, int W>
void pack_cols_panel(const T* src, int64_t ld, int64_t valid, int64_t kc, T* dst) {
  using Tr = Transpose<T, W>;
  constexpr int kB = Tr::kBlock;
  int64_t k0 = 0;
  for (; k0 + kB <= kc; k0 += kB) {
    int64_t w = 0;
    for (; w + kB <= valid; w += kB) Tr::tile(src + w * ld + k0, ld, dst + k0 * W + w);
    for (int64_t k = k0; k < k0 + kB; ++k)
      for (int64_t r = w; r < W; ++r) dst[k * W + r] = r < valid ? src[r * ld + k] : T(0);
  }
  for (int64_t k = k0; k < kc; ++k)
    for (int64_t w = 0; w < W; ++w) dst[k * W + w] = w < valid ? src[w * ld + k] : T(0);
}

// Source is transposed: dst column w, depth k = src[w*ld + k] (op(A) without trans_a, op(B)
// with trans_b). Panel by panel; each reads W source rows as parallel streams.
template <typename T, int W>
void pack_cols(const T* src, int64_t ld, int64_t width, int64_t kc, T* dst) {
  for (int64_t j = 0; j < width; j += W)
    pack_cols_panel<T, W>(src + j * ld, ld, std::min<int64_t>(W, width - j), kc, dst + j * kc);
}

// op(A) rows [i0, i0+rows) × K range [k0, k0+kc) as MR-wide panels.
template <typename T, int MR>
void pack_a(bool trans, const T* A, int64_t lda, int64_t i0, int64_t rows, int64_t k0, int64_t kc, T* dst) {
  if (trans)
    pack_rows<T, MR>(A + k0 * lda + i0, lda, rows, kc, dst);
  else
    pack_cols<T, MR>(A + i0 * lda + k0, lda, rows, kc, dst);
}

// op(B) K range [k0, k0+kc) × columns [j0, j0+cols) as NR-wide panels.
template <typename T, int NR>
void pack_b(bool trans, const T* B, int64_t ldb, int64_t j0, int64_t cols, int64_t k0, int64_t kc, T* dst) {
  if (trans)
    pack_cols<T, NR>(B + j0 * ldb + k0, ldb, cols, kc, dst);
  else
    pack_rows<T, NR>(B + k0 * ldb + j0, ldb, cols, kc, dst);
}

// ---------------------------------------------------------------------------------------------
// Micro-kernels. Contract: c[i*ldc + j] (i < m <= MR, j < n <= NR) = beta·c + sum_k a[k*MR+i]·b[k*NR+j]
// with the sum an in-order FMA chain (plain mul+add for the generic kernel). beta == 0 never reads
// c; beta == 1 adds; otherwise beta·c is rounded, then added. Full and edge tiles use the same
// arithmetic per element.

template <typename T>
using KernelFn = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T beta, int m, int n);

enum class Merge { kOverwrite, kAdd, kScale };
template <typename T>
Merge merge_mode(T beta) {
  return beta == T(0) ? Merge::kOverwrite : beta == T(1) ? Merge::kAdd : Merge::kScale;
}

// Portable kernel: plain loops over a small accumulator tile, auto-vectorised at the baseline ISA.
template <typename T, int MR, int NR>
void kernel_generic(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T beta, int m, int n) {
  T acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    // Full unrolling keeps GCC from vectorising across k (which costs shuffles).
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const T ai = a[i];
#pragma GCC unroll 16
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
  }
  const Merge mode = merge_mode(beta);
  for (int i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    for (int j = 0; j < n; ++j) {
      if (mode == Merge::kOverwrite)
        row[j] = acc[i][j];
      else if (mode == Merge::kAdd)
        row[j] = row[j] + acc[i][j];
      else
        row[j] = beta * row[j] + acc[i][j];
    }
  }
}

#if SG_X86
#define SG_AVX2 __attribute__((target("avx2,fma")))
#define SG_AVX512 __attribute__((target("avx512f")))

// Vector traits: one register type, unaligned loads/stores, masked edge loads/stores for the
// first n lanes, fma/add/mul.
template <typename T> struct Avx2;
template <> struct Avx2<float> {
  using V = __m256;
  using Mask = __m256i;
  static constexpr int kLanes = 8;
  SG_AVX2 static V zero() { return _mm256_setzero_ps(); }
  SG_AVX2 static V set1(float x) { return _mm256_set1_ps(x); }
  SG_AVX2 static V load(const float* p) { return _mm256_loadu_ps(p); }
  SG_AVX2 static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  SG_AVX2 static Mask first(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  SG_AVX2 static V load(const float* p, Mask k) { return _mm256_maskload_ps(p, k); }
  SG_AVX2 static void store(float* p, Mask k, V v) { _mm256_maskstore_ps(p, k, v); }
  SG_AVX2 static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  SG_AVX2 static V add(V a, V b) { return _mm256_add_ps(a, b); }
  SG_AVX2 static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
};
template <> struct Avx2<double> {
  using V = __m256d;
  using Mask = __m256i;
  static constexpr int kLanes = 4;
  SG_AVX2 static V zero() { return _mm256_setzero_pd(); }
  SG_AVX2 static V set1(double x) { return _mm256_set1_pd(x); }
  SG_AVX2 static V load(const double* p) { return _mm256_loadu_pd(p); }
  SG_AVX2 static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  SG_AVX2 static Mask first(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  SG_AVX2 static V load(const double* p, Mask k) { return _mm256_maskload_pd(p, k); }
  SG_AVX2 static void store(double* p, Mask k, V v) { _mm256_maskstore_pd(p, k, v); }
  SG_AVX2 static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  SG_AVX2 static V add(V a, V b) { return _mm256_add_pd(a, b); }
  SG_AVX2 static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
};

template <typename T> struct Avx512;
template <> struct Avx512<float> {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  SG_AVX512 static V zero() { return _mm512_setzero_ps(); }
  SG_AVX512 static V set1(float x) { return _mm512_set1_ps(x); }
  SG_AVX512 static V load(const float* p) { return _mm512_loadu_ps(p); }
  SG_AVX512 static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  SG_AVX512 static Mask first(int n) { return n <= 0 ? 0 : n >= 16 ? 0xFFFF : Mask((1u << n) - 1); }
  SG_AVX512 static V load(const float* p, Mask k) { return _mm512_maskz_loadu_ps(k, p); }
  SG_AVX512 static void store(float* p, Mask k, V v) { _mm512_mask_storeu_ps(p, k, v); }
  SG_AVX512 static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  SG_AVX512 static V add(V a, V b) { return _mm512_add_ps(a, b); }
  SG_AVX512 static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
};
template <> struct Avx512<double> {
  using V = __m512d;
  using Mask = __mmask8;
  static constexpr int kLanes = 8;
  SG_AVX512 static V zero() { return _mm512_setzero_pd(); }
  SG_AVX512 static V set1(double x) { return _mm512_set1_pd(x); }
  SG_AVX512 static V load(const double* p) { return _mm512_loadu_pd(p); }
  SG_AVX512 static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  SG_AVX512 static Mask first(int n) { return n <= 0 ? 0 : n >= 8 ? 0xFF : Mask((1u << n) - 1); }
  SG_AVX512 static V load(const double* p, Mask k) { return _mm512_maskz_loadu_pd(k, p); }
  SG_AVX512 static void store(double* p, Mask k, V v) { _mm512_mask_storeu_pd(p, k, v); }
  SG_AVX512 static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  SG_AVX512 static V add(V a, V b) { return _mm512_add_pd(a, b); }
  SG_AVX512 static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
};

// The SIMD kernels below are one body written twice: GCC cannot inline target-specific intrinsics
// into a template that lacks the target attribute, and the attribute cannot depend on a template
// parameter. Tile: MR rows × NV vectors; MR·NV accumulators + NV B vectors + 1 broadcast live in
// registers.

// beta-merge of one accumulator vector into c (all lanes, or the masked first lanes).
#define SG_DEFINE_MERGE(ATTR, TRAITS)                                                           \
  template <typename T>                                                                         \
  ATTR inline void merge_vec(TRAITS<T>, T* p, typename TRAITS<T>::V acc, Merge mode,            \
                             typename TRAITS<T>::V vbeta) {                                     \
    using Tr = TRAITS<T>;                                                                       \
    if (mode == Merge::kOverwrite)                                                              \
      Tr::store(p, acc);                                                                        \
    else if (mode == Merge::kAdd)                                                               \
      Tr::store(p, Tr::add(Tr::load(p), acc));                                                  \
    else                                                                                        \
      Tr::store(p, Tr::add(Tr::mul(vbeta, Tr::load(p)), acc));                                  \
  }                                                                                             \
  template <typename T>                                                                         \
  ATTR inline void merge_vec(TRAITS<T>, T* p, typename TRAITS<T>::Mask k,                       \
                             typename TRAITS<T>::V acc, Merge mode, typename TRAITS<T>::V vbeta) { \
    using Tr = TRAITS<T>;                                                                       \
    if (mode == Merge::kOverwrite)                                                              \
      Tr::store(p, k, acc);                                                                     \
    else if (mode == Merge::kAdd)                                                               \
      Tr::store(p, k, Tr::add(Tr::load(p, k), acc));                                            \
    else                                                                                        \
      Tr::store(p, k, Tr::add(Tr::mul(vbeta, Tr::load(p, k)), acc));                            \
  }
SG_DEFINE_MERGE(SG_AVX2, Avx2)
SG_DEFINE_MERGE(SG_AVX512, Avx512)
#undef SG_DEFINE_MERGE

// The micro-kernel proper (see the contract above).
#define SG_DEFINE_KERNEL(NAME, ATTR, TRAITS)                                                   \
  template <typename T, int MR, int NV>                                                        \
  ATTR void NAME(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T beta, int m, int n) { \
    using Tr = TRAITS<T>;                                                                      \
    constexpr int L = Tr::kLanes;                                                              \
    typename Tr::V acc[MR][NV];                                                                \
    /* Start fetching the C tile now; it is merged after the k loop. */                        \
    for (int i = 0; i < m; ++i) {                                                              \
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);                   \
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + n - 1), _MM_HINT_T0);           \
    }                                                                                          \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                                      \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[i][v] = Tr::zero();             \
    for (int64_t k = 0; k < kc; ++k, a += MR, b += NV * L) {                                   \
      typename Tr::V bv[NV];                                                                   \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) bv[v] = Tr::load(b + v * L);        \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i) {                                  \
        const typename Tr::V ai = Tr::set1(a[i]);                                              \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[i][v] = Tr::fma(ai, bv[v], acc[i][v]); \
      }                                                                                        \
    }                                                                                          \
    const Merge mode = merge_mode(beta);                                                       \
    const typename Tr::V vbeta = Tr::set1(beta);                                               \
    if (m == MR && n == NV * L) {                                                              \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                                    \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v)                                   \
          merge_vec(Tr{}, c + i * ldc + v * L, acc[i][v], mode, vbeta);                        \
      return;                                                                                  \
    }                                                                                          \
    typename Tr::Mask mask[NV];                                                                \
    _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) mask[v] = Tr::first(n - v * L);       \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i) {                                    \
      if (i >= m) break;                                                                       \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v)                                     \
        if (v * L < n) merge_vec(Tr{}, c + i * ldc + v * L, mask[v], acc[i][v], mode, vbeta);  \
    }                                                                                          \
  }
SG_DEFINE_KERNEL(kernel_avx2, SG_AVX2, Avx2)
SG_DEFINE_KERNEL(kernel_avx512, SG_AVX512, Avx512)
#undef SG_DEFINE_KERNEL
#endif  // SG_X86

// ---------------------------------------------------------------------------------------------
// Kernel selection. Blocking parameters are per (ISA, type) constants, never per thread count.

// (trans, matrix, ld, first row/column of op(X), count, k0, kc, destination panels)
template <typename T>
using PackFn = void (*)(bool, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, T*);

template <typename T>
struct Spec {
  const char* isa;
  int mr, nr;          // register tile
  int64_t kc_max;      // deepest K block (A micro-panel MR×kc in L1)
  int64_t task_m;      // rows of C per parallel task (multiple of mr)
  int64_t task_n;      // columns of C per parallel task (multiple of nr; B block kc×task_n in L2)
  KernelFn<T> kernel;
  PackFn<T> pack_a;
  PackFn<T> pack_b;
};

template <typename T, int MR, int NR>
Spec<T> make_spec(const char* isa, int64_t kc_max, int64_t task_m, int64_t task_n, KernelFn<T> kernel) {
  return Spec<T>{isa, MR, NR, kc_max, round_up(task_m, MR), round_up(task_n, NR), kernel,
                 &pack_a<T, MR>, &pack_b<T, NR>};
}

// Tile shapes. AVX-512: 8×32 float / 8×16 double (16 zmm accumulators); AVX2: 6×16 / 6×8 (12 ymm
// accumulators of 16 registers); generic: 4×16 / 4×8.
template <typename T>
Spec<T> spec_for(const std::string& isa) {
  constexpr bool f = sizeof(T) == 4;
#if SG_X86
  if (isa == "avx512")
    return make_spec<T, 8, f ? 32 : 16>("avx512", f ? 384 : 256, 128, f ? 256 : 128,
                                        &kernel_avx512<T, 8, 2>);
  if (isa == "avx2")
    return make_spec<T, 6, f ? 16 : 8>("avx2", f ? 384 : 256, 120, f ? 256 : 128, &kernel_avx2<T, 6, 2>);
#endif
  return make_spec<T, 4, f ? 16 : 8>("generic", 256, 128, 256, &kernel_generic<T, 4, f ? 16 : 8>);
}

std::string best_isa() {
  std::string best = "generic";
#if SG_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = "avx2";
  if (__builtin_cpu_supports("avx512f")) best = "avx512";
#endif
  // SEQGRAD_GEMM_ISA may only lower the choice (never enable an unsupported instruction set).
  if (const char* env = std::getenv("SEQGRAD_GEMM_ISA")) {
    const std::string want = env;
    if (want == "generic" || (want == "avx2" && best == "avx512")) best = want;
  }
  return best;
}

template <typename T>
const Spec<T>& spec() {
  static const Spec<T> s = spec_for<T>(best_isa());
  return s;
}

// ---------------------------------------------------------------------------------------------
// Direct path for tiny products: one row of C at a time, 64-column chunks accumulated in order of k.

template <typename T>
void gemm_direct(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                 int64_t ldb, T beta, T* C, int64_t ldc) {
  constexpr int64_t kChunk = 64;
  const Merge mode = merge_mode(beta);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j0 = 0; j0 < N; j0 += kChunk) {
      const int64_t nb = std::min(kChunk, N - j0);
      T acc[kChunk] = {};
      for (int64_t k = 0; k < K; ++k) {
        const T a = ta ? A[k * lda + i] : A[i * lda + k];
        if (tb) {
          for (int64_t j = 0; j < nb; ++j) acc[j] += a * B[(j0 + j) * ldb + k];
        } else {
          const T* brow = B + k * ldb + j0;
          for (int64_t j = 0; j < nb; ++j) acc[j] += a * brow[j];
        }
      }
      T* crow = C + i * ldc + j0;
      for (int64_t j = 0; j < nb; ++j)
        crow[j] = mode == Merge::kOverwrite ? acc[j] : mode == Merge::kAdd ? crow[j] + acc[j] : beta * crow[j] + acc[j];
    }
  }
}

// C = beta·C (the K == 0 case); beta == 0 writes zeros without reading C.
template <typename T>
void scale_c(int64_t M, int64_t N, T beta, T* C, int64_t ldc) {
  const Merge mode = merge_mode(beta);
  if (mode == Merge::kAdd) return;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = mode == Merge::kOverwrite ? T(0) : beta * C[i * ldc + j];
}

// ---------------------------------------------------------------------------------------------
// Blocked path.

// Work thresholds (multiply-adds). Below kDirectMacs: direct loop. Below kParallelMacs: blocked but
// on the calling thread only.
constexpr double kDirectMacs = 32768;
constexpr double kParallelMacs = 1 << 20;

// Runs body(t) for t in [0, n), in parallel when `parallel`. Isolated so that a thread waiting here
// never picks up an unrelated task that could re-enter gemm and reuse this thread's scratch.
template <typename Body>
void for_tasks(bool parallel, int64_t n, const Body& body) {
  if (!parallel || n == 1) {
    for (int64_t t = 0; t < n; ++t) body(t);
    return;
  }
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, 1), [&](const tbb::blocked_range<int64_t>& r) {
      for (int64_t t = r.begin(); t != r.end(); ++t) body(t);
    });
  });
}

template <typename T>
struct Problem {
  bool ta, tb;
  int64_t M, N, K;
  const T* A;
  int64_t lda;
  const T* B;
  int64_t ldb;
  T beta;
  T* C;
  int64_t ldc;
};

template <typename T>
void gemm_blocked(const Spec<T>& s, const Problem<T>& p) {
  const int64_t mr = s.mr, nr = s.nr;
  const int64_t k_blocks = ceil_div(p.K, s.kc_max);
  const int64_t kc_step = ceil_div(p.K, k_blocks);  // balanced K blocks, e.g. 384 not 256+128
  const int64_t task_m = std::min(s.task_m, round_up(p.M, mr));
  const int64_t task_n = std::min(s.task_n, round_up(p.N, nr));
  const int64_t tasks_m = ceil_div(p.M, task_m), tasks_n = ceil_div(p.N, task_n);
  const bool parallel = double(p.M) * double(p.N) * double(p.K) >= kParallelMacs;

  // Packed panels of the current K block, owned by the calling thread, read by all workers.
  static thread_local ScratchBuffer a_scratch, b_scratch;
  T* const a_pack = a_scratch.get<T>(round_up(p.M, mr) * kc_step);
  T* const b_pack = b_scratch.get<T>(round_up(p.N, nr) * kc_step);

  for (int64_t k0 = 0; k0 < p.K; k0 += kc_step) {
    const int64_t kc = std::min(kc_step, p.K - k0);
    const T beta = k0 == 0 ? p.beta : T(1);

    // Pack: tasks [0, tasks_m) pack A row blocks, the rest pack B column blocks.
    for_tasks(parallel, tasks_m + tasks_n, [&](int64_t t) {
      if (t < tasks_m) {
        const int64_t i = t * task_m;
        s.pack_a(p.ta, p.A, p.lda, i, std::min(task_m, p.M - i), k0, kc, a_pack + i * kc);
      } else {
        const int64_t j = (t - tasks_m) * task_n;
        s.pack_b(p.tb, p.B, p.ldb, j, std::min(task_n, p.N - j), k0, kc, b_pack + j * kc);
      }
    });

    // Multiply: one task per task_m × task_n tile of C.
    for_tasks(parallel, tasks_m * tasks_n, [&](int64_t t) {
      const int64_t i_begin = (t / tasks_n) * task_m, i_end = std::min(p.M, i_begin + task_m);
      const int64_t j_begin = (t % tasks_n) * task_n, j_end = std::min(p.N, j_begin + task_n);
      for (int64_t i = i_begin; i < i_end; i += mr) {
        const T* a = a_pack + i * kc;
        const int m = int(std::min(mr, i_end - i));
        for (int64_t j = j_begin; j < j_end; j += nr)
          s.kernel(kc, a, b_pack + j * kc, p.C + i * p.ldc + j, p.ldc, beta, m, int(std::min(nr, j_end - j)));
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Argument checks.

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("gemm: " + what); }

std::string flag(bool b) { return b ? "true" : "false"; }

std::string describe(bool ta, bool tb, int64_t M, int64_t N, int64_t K) {
  return "M=" + std::to_string(M) + ", N=" + std::to_string(N) + ", K=" + std::to_string(K) +
         ", trans_a=" + flag(ta) + ", trans_b=" + flag(tb);
}

// Checks one operand stored rows×cols with row stride ld; messages are only built on failure.
void check_matrix(const char* name, const void* ptr, const char* ld_name, int64_t ld, int64_t rows,
                  int64_t cols, bool ta, bool tb, int64_t M, int64_t N, int64_t K) {
  if (ld < cols)
    fail(std::string(ld_name) + "=" + std::to_string(ld) + " is smaller than the " + std::to_string(cols) +
         " columns of " + name + " as stored (" + describe(ta, tb, M, N, K) + ")");
  if (ptr == nullptr && rows > 0 && cols > 0)
    fail(std::string(name) + " is null but holds " + std::to_string(rows) + "x" + std::to_string(cols) +
         " values (" + describe(ta, tb, M, N, K) + ")");
}

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
          int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M < 0 || N < 0 || K < 0) fail("negative size (" + describe(trans_a, trans_b, M, N, K) + ")");
  check_matrix("A", A, "lda", lda, trans_a ? K : M, trans_a ? M : K, trans_a, trans_b, M, N, K);
  check_matrix("B", B, "ldb", ldb, trans_b ? N : K, trans_b ? K : N, trans_a, trans_b, M, N, K);
  check_matrix("C", C, "ldc", ldc, M, N, trans_a, trans_b, M, N, K);

  if (M == 0 || N == 0) return;
  if (K == 0) return scale_c(M, N, beta, C, ldc);
  if (double(M) * double(N) * double(K) < kDirectMacs)
    return gemm_direct(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
  gemm_blocked(spec<T>(), Problem<T>{trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc});
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t,
                          float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, const double*, int64_t, const double*,
                           int64_t, double, double*, int64_t);

}  // namespace seqgrad::kernels
