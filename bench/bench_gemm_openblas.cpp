// Reference for bench_gemm.cpp: OpenBLAS sgemm/dgemm at the same shapes and thread counts, in the
// same run, so our GFLOP/s read as a ratio. Built only when Debian's libopenblas-dev is present;
// run it with OPENBLAS_CORETYPE unset (scripts/bench.sh does) so OpenBLAS picks its best kernel.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <vector>

#include "autograd/rng.h"
#include "autograd/tensor.h"

namespace {

template <typename T>
void blas_gemm(int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C) {
  if constexpr (sizeof(T) == 4)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(M), int(N), int(K), 1.0f, A, int(K), B, int(N), 0.0f, C,
                int(N));
  else
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(M), int(N), int(K), 1.0, A, int(K), B, int(N), 0.0, C,
                int(N));
}

// Args: M, N, K, threads.
template <typename T>
void BM_openblas_gemm(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  openblas_set_num_threads(int(state.range(3)));
  seqgrad::Rng rng(1);
  const seqgrad::DType dt = sizeof(T) == 4 ? seqgrad::DType::f32 : seqgrad::DType::f64;
  const seqgrad::Tensor A = seqgrad::Tensor::uniform({M, K}, rng, -1, 1, dt),
                        B = seqgrad::Tensor::uniform({K, N}, rng, -1, 1, dt);
  std::vector<T> C(size_t(M * N));
  for (auto _ : state) {
    blas_gemm<T>(M, N, K, A.data<T>(), B.data<T>(), C.data());
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * double(M) * double(N) * double(K) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(openblas_get_corename());
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {1, 2})
    for (auto [M, N, K] :
         {std::array<int64_t, 3>{64, 1024, 384}, {1024, 1024, 1024}, {6400, 1024, 128}, {32, 512, 192}})
      b->Args({M, N, K, threads});
}

}  // namespace

BENCHMARK_TEMPLATE(BM_openblas_gemm, float)
    ->Apply(shapes)
    ->ArgNames({"M", "N", "K", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_openblas_gemm, double)
    ->Args({1024, 1024, 1024, 1})
    ->Args({1024, 1024, 1024, 2})
    ->ArgNames({"M", "N", "K", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
