// GEMM: blocked, packed, register-tiled; see gemm.h for the contract.
//
// Paths, chosen from the shape only:
//  * M·N·K < kDirectMacs: a plain loop (gemm_direct).
//  * M <= 4 with B transposed (x·Wᵀ at tiny batch): row dot products, B streamed unpacked.
//  * Blocked (Goto/BLIS style). K is cut into balanced blocks of <= kc_max, done in order. op(A) is
//    packed into MR-row micro-panels and op(B) into NR-column micro-panels (k-major, zero-padded);
//    C is cut into fixed task tiles (make_plan), run by tbb::parallel_for. Inside a tile, for each
//    MR-row panel (its A micro-panel stays in L1), for each NR-column panel (the tile's B block
//    stays in L2), a SIMD micro-kernel computes an MR×NR block in registers.
//      - gemm_few_rows (M <= task_m): A packed once, each task packs its own B columns.
//      - gemm_shared_panels: per K block, all panels packed in parallel, then all tiles multiplied.
// Each C element is a sequential FMA chain over each K block, merged into C block after block in
// K order, whichever thread runs its tile and however the tiles are cut: bitwise deterministic.
// Micro-kernels: AVX-512F (8×32 float, 8×16 double), AVX2+FMA (6×16, 6×8) or portable loops (4×16,
// 4×8), picked once at runtime with __builtin_cpu_supports; the rest is baseline x86-64 code.
#include "autograd/gemm.h"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

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

// One transposed panel: dst[k*W + w] = src[w*ld + k] for w < valid (<= W), zero beyond. Walks
// k one cache line at a time so each line of the (often 4 KiB-strided) source rows is consumed
// while it is in L1.
template <typename T, int W>
void pack_cols_panel(const T* src, int64_t ld, int64_t valid, int64_t kc, T* dst) {
  using Tr = Transpose<T, W>;
  constexpr int64_t kB = Tr::kBlock, kLine = 64 / sizeof(T);
  const int64_t w_tiled = valid / kB * kB;
  const int64_t k_tiled = kc / kB * kB;
  for (int64_t k0 = 0; k0 < k_tiled; k0 += kLine) {
    const int64_t k1 = std::min(k0 + kLine, k_tiled);
    for (int64_t w = 0; w < w_tiled; w += kB)
      for (int64_t k = k0; k < k1; k += kB) Tr::tile(src + w * ld + k, ld, dst + k * W + w);
    for (int64_t k = k0; k < k1; ++k)
      for (int64_t w = w_tiled; w < W; ++w) dst[k * W + w] = w < valid ? src[w * ld + k] : T(0);
  }
  for (int64_t k = k_tiled; k < kc; ++k)
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
  if (trans) pack_rows<T, MR>(A + k0 * lda + i0, lda, rows, kc, dst);
  else pack_cols<T, MR>(A + i0 * lda + k0, lda, rows, kc, dst);
}

// op(B) K range [k0, k0+kc) × columns [j0, j0+cols) as NR-wide panels.
template <typename T, int NR>
void pack_b(bool trans, const T* B, int64_t ldb, int64_t j0, int64_t cols, int64_t k0, int64_t kc, T* dst) {
  if (trans) pack_cols<T, NR>(B + j0 * ldb + k0, ldb, cols, kc, dst);
  else pack_rows<T, NR>(B + k0 * ldb + j0, ldb, cols, kc, dst);
}

// ---------------------------------------------------------------------------------------------
// Micro-kernels. A kernel instance with ROWS (<= MR) rows computes, for i < ROWS and j < n <= NR,
//   c[i*ldc + j] = beta·c + sum_k a[k*MR + i]·b[k*NR + j]
// with the sum an in-order FMA chain (plain mul+add for the generic kernel). beta == 0 never reads
// c; beta == 1 adds; otherwise beta·c is rounded, then added. Every element gets the same
// arithmetic whatever ROWS and n are; ROWS < MR instances serve the bottom edge of C cheaply.

template <typename T>
using KernelFn = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T beta, int n);
constexpr int kMaxMR = 8;
template <typename T>
using KernelTable = std::array<KernelFn<T>, kMaxMR + 1>;  // [rows] -> kernel; [0] unused

enum class Merge { kOverwrite, kAdd, kScale };
template <typename T>
Merge merge_mode(T beta) {
  return beta == T(0) ? Merge::kOverwrite : beta == T(1) ? Merge::kAdd : Merge::kScale;
}

// Portable kernel: plain loops over a small accumulator tile, auto-vectorised at the baseline ISA.
template <typename T, int MR, int ROWS, int NR>
void kernel_generic(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T beta, int n) {
  T acc[ROWS][NR] = {};
  for (int64_t k = 0; k < kc; ++k, a += MR, b += NR) {
    // Full unrolling keeps GCC from vectorising across k (which costs shuffles).
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; ++i) {
      const T ai = a[i];
#pragma GCC unroll 16
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
    }
  }
  const Merge mode = merge_mode(beta);
  for (int i = 0; i < ROWS; ++i) {
    T* row = c + i * ldc;
    for (int j = 0; j < n; ++j) {
      if (mode == Merge::kOverwrite) row[j] = acc[i][j];
      else if (mode == Merge::kAdd) row[j] = row[j] + acc[i][j];
      else row[j] = beta * row[j] + acc[i][j];
    }
  }
}

#if SG_X86
#define SG_AVX2 __attribute__((target("avx2,fma")))
#define SG_AVX512 __attribute__((target("avx512f")))

// Vector traits: one register type, unaligned loads/stores, masked edge loads/stores for the
// first n lanes, fma/add/mul.
template <typename T>
struct Avx2;
template <>
struct Avx2<float> {
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
template <>
struct Avx2<double> {
  using V = __m256d;
  using Mask = __m256i;
  static constexpr int kLanes = 4;
  SG_AVX2 static V zero() { return _mm256_setzero_pd(); }
  SG_AVX2 static V set1(double x) { return _mm256_set1_pd(x); }
  SG_AVX2 static V load(const double* p) { return _mm256_loadu_pd(p); }
  SG_AVX2 static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  SG_AVX2 static Mask first(int n) { return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3)); }
  SG_AVX2 static V load(const double* p, Mask k) { return _mm256_maskload_pd(p, k); }
  SG_AVX2 static void store(double* p, Mask k, V v) { _mm256_maskstore_pd(p, k, v); }
  SG_AVX2 static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  SG_AVX2 static V add(V a, V b) { return _mm256_add_pd(a, b); }
  SG_AVX2 static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
};

template <typename T>
struct Avx512;
template <>
struct Avx512<float> {
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
template <>
struct Avx512<double> {
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

// The two SIMD kernels share one body, stamped out per instruction set by the macros below: GCC
// cannot inline target-specific intrinsics into a template without the matching target
// attribute, and that attribute cannot depend on a template parameter.
// Tile: ROWS × NV vectors; ROWS·NV accumulators + NV vectors of B + 1 broadcast of A in registers.
// clang-format off

// beta-merge of one accumulator vector into c: all lanes, or (with a mask) the first lanes.
#define SG_DEFINE_MERGE(ATTR, TRAITS)                                                          \
  template <typename T, typename V = typename TRAITS<T>::V>                                    \
  ATTR inline void merge_vec(TRAITS<T>, T* p, V acc, Merge mode, V vbeta) {                    \
    using Tr = TRAITS<T>;                                                                      \
    if (mode == Merge::kOverwrite) Tr::store(p, acc);                                          \
    else if (mode == Merge::kAdd) Tr::store(p, Tr::add(Tr::load(p), acc));                     \
    else Tr::store(p, Tr::add(Tr::mul(vbeta, Tr::load(p)), acc));                              \
  }                                                                                            \
  template <typename T, typename V = typename TRAITS<T>::V>                                    \
  ATTR inline void merge_vec(TRAITS<T>, T* p, typename TRAITS<T>::Mask k, V acc, Merge mode,   \
                             V vbeta) {                                                        \
    using Tr = TRAITS<T>;                                                                      \
    if (mode == Merge::kOverwrite) Tr::store(p, k, acc);                                       \
    else if (mode == Merge::kAdd) Tr::store(p, k, Tr::add(Tr::load(p, k), acc));               \
    else Tr::store(p, k, Tr::add(Tr::mul(vbeta, Tr::load(p, k)), acc));                        \
  }

// The micro-kernel (contract above). Loops over ROWS and NV are fully unrolled so the
// accumulators stay in registers.
#define SG_DEFINE_KERNEL(NAME, ATTR, TRAITS)                                                   \
  template <typename T, int MR, int ROWS, int NV>                                              \
  ATTR void NAME(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T beta, int n) {        \
    using Tr = TRAITS<T>;                                                                      \
    using V = typename Tr::V;                                                                  \
    constexpr int L = Tr::kLanes;                                                              \
    /* Start fetching the C tile; it is only merged after the k loop. */                       \
    for (int i = 0; i < ROWS; ++i) {                                                           \
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);                   \
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + n - 1), _MM_HINT_T0);           \
    }                                                                                          \
    V acc[ROWS][NV];                                                                           \
    _Pragma("GCC unroll 16") for (int i = 0; i < ROWS; ++i) {                                  \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[i][v] = Tr::zero();             \
    }                                                                                          \
    for (int64_t k = 0; k < kc; ++k, a += MR, b += NV * L) {                                   \
      V bv[NV];                                                                                \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) bv[v] = Tr::load(b + v * L);        \
      _Pragma("GCC unroll 16") for (int i = 0; i < ROWS; ++i) {                                \
        const V ai = Tr::set1(a[i]);                                                           \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) {                                 \
          acc[i][v] = Tr::fma(ai, bv[v], acc[i][v]);                                           \
        }                                                                                      \
      }                                                                                        \
    }                                                                                          \
    const Merge mode = merge_mode(beta);                                                       \
    const V vbeta = Tr::set1(beta);                                                            \
    if (n == NV * L) { /* full width */                                                        \
      _Pragma("GCC unroll 16") for (int i = 0; i < ROWS; ++i) {                                \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) {                                 \
          merge_vec(Tr{}, c + i * ldc + v * L, acc[i][v], mode, vbeta);                        \
        }                                                                                      \
      }                                                                                        \
      return;                                                                                  \
    }                                                                                          \
    typename Tr::Mask mask[NV]; /* right edge: lanes < n only */                               \
    _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) mask[v] = Tr::first(n - v * L);       \
    _Pragma("GCC unroll 16") for (int i = 0; i < ROWS; ++i) {                                  \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) {                                   \
        if (v * L < n) merge_vec(Tr{}, c + i * ldc + v * L, mask[v], acc[i][v], mode, vbeta);  \
      }                                                                                        \
    }                                                                                          \
  }

SG_DEFINE_MERGE(SG_AVX2, Avx2)
SG_DEFINE_MERGE(SG_AVX512, Avx512)
SG_DEFINE_KERNEL(kernel_avx2, SG_AVX2, Avx2)
SG_DEFINE_KERNEL(kernel_avx512, SG_AVX512, Avx512)
#undef SG_DEFINE_MERGE
#undef SG_DEFINE_KERNEL
// clang-format on
#endif  // SG_X86

// ---------------------------------------------------------------------------------------------
// Kernel selection. Blocking parameters are per (ISA, type) constants, never per thread count.

// (trans, matrix, ld, first row/column of op(X), count, k0, kc, destination panels)
template <typename T>
using PackFn = void (*)(bool, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, T*);

template <typename T>
struct Spec {
  const char* isa;
  int mr, nr;             // register tile
  int64_t kc_max;         // deepest K block (A micro-panel MR×kc in L1)
  int64_t task_m;         // rows of C per parallel task (multiple of mr)
  int64_t task_n;         // columns of C per parallel task (multiple of nr; B block kc×task_n in L2)
  KernelTable<T> kernel;  // kernel[m] computes m rows
  PackFn<T> pack_a;
  PackFn<T> pack_b;
};

// kernel(std::integral_constant<int, rows>) -> KernelFn for rows = 1..MR.
template <typename T, int MR, typename Pick, size_t... R>
KernelTable<T> kernel_table(Pick pick, std::index_sequence<R...>) {
  static_assert(MR <= kMaxMR);
  return KernelTable<T>{nullptr, pick(std::integral_constant<int, int(R) + 1>{})...};
}

template <typename T, int MR, int NR, typename Pick>
Spec<T> make_spec(const char* isa, int64_t kc_max, int64_t task_m, int64_t task_n, Pick pick) {
  return Spec<T>{isa,
                 MR,
                 NR,
                 kc_max,
                 round_up(task_m, MR),
                 round_up(task_n, NR),
                 kernel_table<T, MR>(pick, std::make_index_sequence<MR>{}),
                 &pack_a<T, MR>,
                 &pack_b<T, NR>};
}

// Tile shapes. AVX-512: 8×32 float / 8×16 double (16 zmm accumulators); AVX2: 6×16 / 6×8 (12 ymm
// accumulators of 16 registers); generic: 4×16 / 4×8.
template <typename T>
Spec<T> spec_for(const std::string& isa) {
  constexpr bool f = sizeof(T) == 4;
#if SG_X86
  if (isa == "avx512")
    return make_spec < T, 8, f ? 32 : 16 > ("avx512", f ? 384 : 256, 128, f ? 256 : 128, [](auto rows) -> KernelFn<T> {
                                        return &kernel_avx512<T, 8, decltype(rows)::value, 2>;
                                      });
  if (isa == "avx2")
    return make_spec < T, 6, f ? 16 : 8 > ("avx2", f ? 384 : 256, 120, f ? 256 : 128, [](auto rows) -> KernelFn<T> {
                                        return &kernel_avx2<T, 6, decltype(rows)::value, 2>;
                                      });
#endif
  return make_spec < T, 4, f ? 16 : 8 > ("generic", 256, 128, 256, [](auto rows) -> KernelFn<T> {
                                      return &kernel_generic < T, 4, decltype(rows)::value, f ? 16 : 8 > ;
                                    });
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
void gemm_direct(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
                 T beta, T* C, int64_t ldc) {
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

// Row-dot path for a few rows times a transposed B (x·Wᵀ at batch 1–4: streaming inference):
// C(i, j) = A row i · B row j, both contiguous, so B is streamed once and never packed — packing
// a transposed (N×K) B cost ~10x the arithmetic here. Each dot keeps kLanes independent partial
// sums (lane l takes k ≡ l mod kLanes, in k order), then adds them in a fixed pairwise tree: the
// same IEEE operations in the same order on every ISA (no FMA) and at any thread count.
constexpr int64_t kDotRows = 4;  // M at most this
// Portable row dots (double, and float without AVX2): the lane structure described above.
template <typename T>
void dot_rows_generic(int64_t M, int64_t j_begin, int64_t j_end, int64_t K, const T* A, int64_t lda, const T* B,
                      int64_t ldb, T beta, T* C, int64_t ldc) {
  constexpr int kLanes = 16;
  const Merge mode = merge_mode(beta);
  for (int64_t j = j_begin; j < j_end; ++j)
    for (int64_t i = 0; i < M; ++i) {
      const T *a = A + i * lda, *b = B + j * ldb;
      T acc[kLanes] = {};
      for (int64_t k = 0; k < K; ++k) acc[k % kLanes] += a[k] * b[k];
      for (int w = kLanes / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
      T& c = C[i * ldc + j];
      c = mode == Merge::kOverwrite ? acc[0] : mode == Merge::kAdd ? c + acc[0] : beta * c + acc[0];
    }
}

#if SG_X86
// C(i, j) from a 16-lane float accumulator held as two 8-lane halves (lanes 0–7, 8–15): the same
// pairwise tree as dot_rows_generic (l += l+8, l += l+4, l += l+2, l += l+1).
__attribute__((target("avx2"))) inline float reduce16(__m256 lo, __m256 hi) {
  const __m256 s8 = _mm256_add_ps(lo, hi);
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}
inline float merge_c(float c, float v, Merge mode, float beta) {
  return mode == Merge::kOverwrite ? v : mode == Merge::kAdd ? c + v : beta * c + v;
}

// Four columns of B at a time (independent add chains); mul then add, never FMA, as generic.
__attribute__((target("avx512f,avx2"))) void dot_rows_avx512(int64_t M, int64_t j_begin, int64_t j_end, int64_t K,
                                                             const float* A, int64_t lda, const float* B, int64_t ldb,
                                                             float beta, float* C, int64_t ldc) {
  const Merge mode = merge_mode(beta);
  const int64_t k_full = K / 16 * 16;
  const __mmask16 tail = __mmask16((1u << (K - k_full)) - 1);  // masked-off lanes load 0: adds +0
  int64_t j = j_begin;
  for (; j < j_end; j += 4) {
    const int nj = int(std::min<int64_t>(4, j_end - j));
    const float* b[4];
    for (int q = 0; q < 4; ++q) b[q] = B + (j + std::min(q, nj - 1)) * ldb;  // short tile: repeat a row
    for (int64_t i = 0; i < M; ++i) {
      const float* a = A + i * lda;
      __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
      for (int64_t k = 0; k < k_full; k += 16) {
        const __m512 va = _mm512_loadu_ps(a + k);
        acc0 = _mm512_add_ps(acc0, _mm512_mul_ps(va, _mm512_loadu_ps(b[0] + k)));
        acc1 = _mm512_add_ps(acc1, _mm512_mul_ps(va, _mm512_loadu_ps(b[1] + k)));
        acc2 = _mm512_add_ps(acc2, _mm512_mul_ps(va, _mm512_loadu_ps(b[2] + k)));
        acc3 = _mm512_add_ps(acc3, _mm512_mul_ps(va, _mm512_loadu_ps(b[3] + k)));
      }
      if (tail) {
        const __m512 va = _mm512_maskz_loadu_ps(tail, a + k_full);
        acc0 = _mm512_add_ps(acc0, _mm512_mul_ps(va, _mm512_maskz_loadu_ps(tail, b[0] + k_full)));
        acc1 = _mm512_add_ps(acc1, _mm512_mul_ps(va, _mm512_maskz_loadu_ps(tail, b[1] + k_full)));
        acc2 = _mm512_add_ps(acc2, _mm512_mul_ps(va, _mm512_maskz_loadu_ps(tail, b[2] + k_full)));
        acc3 = _mm512_add_ps(acc3, _mm512_mul_ps(va, _mm512_maskz_loadu_ps(tail, b[3] + k_full)));
      }
      alignas(64) float lanes[4][16];  // through memory: GCC 12's 512→256 casts warn spuriously
      _mm512_store_ps(lanes[0], acc0);
      _mm512_store_ps(lanes[1], acc1);
      _mm512_store_ps(lanes[2], acc2);
      _mm512_store_ps(lanes[3], acc3);
      float* c = C + i * ldc + j;
      for (int q = 0; q < nj; ++q)
        c[q] = merge_c(c[q], reduce16(_mm256_load_ps(lanes[q]), _mm256_load_ps(lanes[q] + 8)), mode, beta);
    }
  }
}
#endif

// Float row dots on the best ISA (AVX-512 when present; otherwise the portable loop, whose bits
// are the same).
void dot_rows_f32(int64_t M, int64_t j0, int64_t j1, int64_t K, const float* A, int64_t lda, const float* B,
                  int64_t ldb, float beta, float* C, int64_t ldc) {
#if SG_X86
  static const bool avx512 = __builtin_cpu_supports("avx512f") && best_isa() == "avx512";
  if (avx512) return dot_rows_avx512(M, j0, j1, K, A, lda, B, ldb, beta, C, ldc);
#endif
  dot_rows_generic(M, j0, j1, K, A, lda, B, ldb, beta, C, ldc);
}
// Two threads pay (~1 µs to wake) above this many multiply-adds: each then streams its own half of
// B, which at H = 256 also fits that core's L2 (1.5 MB of LSTM weights do not fit one core's).
constexpr double kDotParallelMacs = 1 << 17;
constexpr int64_t kDotBlock = 64;  // fixed column blocks of C
template <typename T>
void gemm_dot_rows(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C,
                   int64_t ldc) {
  auto run = [&](int64_t j0, int64_t j1) {
    if constexpr (std::is_same_v<T, float>) dot_rows_f32(M, j0, j1, K, A, lda, B, ldb, beta, C, ldc);
    else dot_rows_generic(M, j0, j1, K, A, lda, B, ldb, beta, C, ldc);
  };
  if (double(M) * double(N) * double(K) < kDotParallelMacs) return run(0, N);
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, N, kDotBlock),
        [&](const tbb::blocked_range<int64_t>& r) { run(r.begin(), r.end()); },
        tbb::static_partitioner());  // the same halves go to the same threads each call
  });
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

// Work thresholds (multiply-adds). Below kDirectMacs: direct loop (measured crossover on Zen 4:
// the packed path is already ~5x faster at 16k). Below kParallelMacs: blocked but on the calling
// thread only.
constexpr double kDirectMacs = 1024;
constexpr double kParallelMacs = 1 << 20;
// Parallel products are cut into at least this many tasks when the shape allows.
constexpr int64_t kMinTasks = 8;

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

// How a blocked product is cut up. Depends on the shape and the Spec only, never on threads.
struct Plan {
  int64_t kc_step;         // K block depth (the last block may be shorter)
  int64_t task_m, task_n;  // C tile per parallel task
  int64_t tasks_m, tasks_n;
  bool few_rows;  // M fits one task row: gemm_few_rows
  bool parallel;
};

template <typename T>
Plan make_plan(const Spec<T>& s, const Problem<T>& p) {
  Plan plan;
  const int64_t k_blocks = ceil_div(p.K, s.kc_max);
  plan.kc_step = ceil_div(p.K, k_blocks);  // balanced, e.g. 2×320 rather than 384+256
  // Tiles of task_m × task_n; when that gives fewer than kMinTasks tasks, N and then M (unless all
  // rows fit one task) are cut finer, down to 2 register tiles a side.
  plan.few_rows = p.M <= s.task_m;
  plan.task_m = round_up(std::min(p.M, s.task_m), s.mr);
  plan.task_n = std::min(s.task_n, round_up(p.N, s.nr));
  plan.tasks_m = ceil_div(p.M, plan.task_m);
  const int64_t want_n = ceil_div(kMinTasks, plan.tasks_m);
  if (ceil_div(p.N, plan.task_n) < want_n)
    plan.task_n = std::min(plan.task_n, std::max<int64_t>(2 * s.nr, round_up(ceil_div(p.N, want_n), s.nr)));
  plan.tasks_n = ceil_div(p.N, plan.task_n);
  const int64_t want_m = ceil_div(kMinTasks, plan.tasks_n);
  if (!plan.few_rows && plan.tasks_m < want_m) {
    plan.task_m = std::min(plan.task_m, std::max<int64_t>(2 * s.mr, round_up(ceil_div(p.M, want_m), s.mr)));
    plan.tasks_m = ceil_div(p.M, plan.task_m);
  }
  plan.parallel = double(p.M) * double(p.N) * double(p.K) >= kParallelMacs;
  return plan;
}

// C[i_begin:i_end, j_begin:j_end] = beta·C + (packed A panels) · (packed B panels) for one K block
// of depth kc. a_pack holds the panels from row i_begin on, b_pack those from column j_begin on.
template <typename T>
void multiply_tile(const Spec<T>& s, const Problem<T>& p, const T* a_pack, const T* b_pack, int64_t kc, T beta,
                   int64_t i_begin, int64_t i_end, int64_t j_begin, int64_t j_end) {
  for (int64_t i = i_begin; i < i_end; i += s.mr) {
    const T* a = a_pack + (i - i_begin) * kc;
    const KernelFn<T> kernel = s.kernel[std::min<int64_t>(s.mr, i_end - i)];
    for (int64_t j = j_begin; j < j_end; j += s.nr)
      kernel(kc, a, b_pack + (j - j_begin) * kc, p.C + i * p.ldc + j, p.ldc, beta,
             int(std::min<int64_t>(s.nr, j_end - j)));
  }
}

// Few rows (M <= task_m, the RNN batch case): op(A) is packed whole up front; each task owns a
// column block of C, packs its slice of op(B) into its own scratch (fresh in L2 when used) and
// walks all K blocks. One parallel region per call.
template <typename T>
void gemm_few_rows(const Spec<T>& s, const Problem<T>& p, const Plan& plan) {
  const int64_t m_pad = round_up(p.M, s.mr);
  static thread_local ScratchBuffer a_scratch;  // calling thread's; read by all tasks
  T* const a_pack = a_scratch.get<T>(m_pad * p.K);
  for (int64_t k0 = 0; k0 < p.K; k0 += plan.kc_step)  // K block at k0 lives at a_pack + m_pad*k0
    s.pack_a(p.ta, p.A, p.lda, 0, p.M, k0, std::min(plan.kc_step, p.K - k0), a_pack + m_pad * k0);

  for_tasks(plan.parallel, plan.tasks_n, [&](int64_t t) {
    static thread_local ScratchBuffer task_scratch;  // the running thread's, distinct from a_scratch
    const int64_t j_begin = t * plan.task_n, j_end = std::min(p.N, j_begin + plan.task_n);
    T* const b_pack = task_scratch.get<T>(plan.task_n * plan.kc_step);
    for (int64_t k0 = 0; k0 < p.K; k0 += plan.kc_step) {
      const int64_t kc = std::min(plan.kc_step, p.K - k0);
      s.pack_b(p.tb, p.B, p.ldb, j_begin, j_end - j_begin, k0, kc, b_pack);
      multiply_tile(s, p, a_pack + m_pad * k0, b_pack, kc, k0 == 0 ? p.beta : T(1), 0, p.M, j_begin, j_end);
    }
  });
}

// General case: per K block, pack all of op(A) and op(B) in parallel into shared buffers, then
// multiply task tiles in parallel. Each panel is packed once per K block.
template <typename T>
void gemm_shared_panels(const Spec<T>& s, const Problem<T>& p, const Plan& plan) {
  static thread_local ScratchBuffer a_scratch, b_scratch;  // calling thread's; read by all tasks
  T* const a_pack = a_scratch.get<T>(round_up(p.M, s.mr) * plan.kc_step);
  T* const b_pack = b_scratch.get<T>(round_up(p.N, s.nr) * plan.kc_step);
  const int64_t tm = plan.task_m, tn = plan.task_n;

  for (int64_t k0 = 0; k0 < p.K; k0 += plan.kc_step) {
    const int64_t kc = std::min(plan.kc_step, p.K - k0);
    // Tasks [0, tasks_m) pack row blocks of op(A), the rest column blocks of op(B).
    for_tasks(plan.parallel, plan.tasks_m + plan.tasks_n, [&](int64_t t) {
      if (t < plan.tasks_m) {
        const int64_t i = t * tm;
        s.pack_a(p.ta, p.A, p.lda, i, std::min(tm, p.M - i), k0, kc, a_pack + i * kc);
      } else {
        const int64_t j = (t - plan.tasks_m) * tn;
        s.pack_b(p.tb, p.B, p.ldb, j, std::min(tn, p.N - j), k0, kc, b_pack + j * kc);
      }
    });
    for_tasks(plan.parallel, plan.tasks_m * plan.tasks_n, [&](int64_t t) {
      const int64_t i = (t / plan.tasks_n) * tm, j = (t % plan.tasks_n) * tn;
      multiply_tile(s, p, a_pack + i * kc, b_pack + j * kc, kc, k0 == 0 ? p.beta : T(1), i, std::min(p.M, i + tm), j,
                    std::min(p.N, j + tn));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Argument checks.

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("gemm: " + what); }

std::string flag(bool b) { return b ? "true" : "false"; }

std::string describe(bool ta, bool tb, int64_t M, int64_t N, int64_t K) {
  return "M=" + std::to_string(M) + ", N=" + std::to_string(N) + ", K=" + std::to_string(K) + ", trans_a=" + flag(ta) +
         ", trans_b=" + flag(tb);
}

// Checks one operand stored rows×cols with row stride ld; messages are only built on failure.
void check_matrix(const char* name, const void* ptr, const char* ld_name, int64_t ld, int64_t rows, int64_t cols,
                  bool ta, bool tb, int64_t M, int64_t N, int64_t K) {
  if (ld < cols)
    fail(std::string(ld_name) + "=" + std::to_string(ld) + " is smaller than the " + std::to_string(cols) +
         " columns of " + name + " as stored (" + describe(ta, tb, M, N, K) + ")");
  if (ptr == nullptr && rows > 0 && cols > 0)
    fail(std::string(name) + " is null but holds " + std::to_string(rows) + "x" + std::to_string(cols) + " values (" +
         describe(ta, tb, M, N, K) + ")");
}

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
          T beta, T* C, int64_t ldc) {
  if (M < 0 || N < 0 || K < 0) fail("negative size (" + describe(trans_a, trans_b, M, N, K) + ")");
  check_matrix("A", A, "lda", lda, trans_a ? K : M, trans_a ? M : K, trans_a, trans_b, M, N, K);
  check_matrix("B", B, "ldb", ldb, trans_b ? N : K, trans_b ? K : N, trans_a, trans_b, M, N, K);
  check_matrix("C", C, "ldc", ldc, M, N, trans_a, trans_b, M, N, K);

  if (M == 0 || N == 0) return;
  if (K == 0) return scale_c(M, N, beta, C, ldc);
  if (double(M) * double(N) * double(K) < kDirectMacs)
    return gemm_direct(trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc);
  if (!trans_a && trans_b && M <= kDotRows) return gemm_dot_rows(M, N, K, A, lda, B, ldb, beta, C, ldc);
  const Spec<T>& s = spec<T>();
  const Problem<T> p{trans_a, trans_b, M, N, K, A, lda, B, ldb, beta, C, ldc};
  const Plan plan = make_plan(s, p);
  if (plan.few_rows) gemm_few_rows(s, p, plan);
  else gemm_shared_panels(s, p, plan);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float,
                          float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, const double*, int64_t, const double*, int64_t,
                           double, double*, int64_t);

}  // namespace seqgrad::kernels
