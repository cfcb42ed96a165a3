// GEMM throughput on RNN-like shapes (M×N×K = batch × hidden-ish × input-ish) and 1024³, at 1 and
// 2 threads, reported as GFLOP/s of wall time. Each case first checks gemm against a naive
// double-precision product and reports an error instead of timing if it disagrees.
#include <benchmark/benchmark.h>
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "autograd/gemm.h"
#include "autograd/rng.h"

namespace {

template <typename T>
std::vector<T> random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  seqgrad::Rng rng(seed);
  std::vector<T> v(size_t(rows * cols));
  for (T& x : v) x = T(rng.uniform(-1.0, 1.0));
  return v;
}

// Compares rows of C = A·B (all row-major, no transposes) with a naive double product; checks
// every row of small products and ~64 evenly spaced rows of large ones. Empty string when fine.
template <typename T>
std::string verify(int64_t M, int64_t N, int64_t K, const std::vector<T>& A, const std::vector<T>& B,
                   const std::vector<T>& C) {
  const int64_t row_step = M * N * K <= (int64_t(1) << 26) ? 1 : std::max<int64_t>(1, M / 64);
  std::vector<double> ref(static_cast<size_t>(N)), mag(static_cast<size_t>(N));
  for (int64_t i = 0; i < M; i += row_step) {
    std::fill(ref.begin(), ref.end(), 0.0);
    std::fill(mag.begin(), mag.end(), 0.0);
    for (int64_t k = 0; k < K; ++k) {
      const double a = A[size_t(i * K + k)];
      for (int64_t j = 0; j < N; ++j) {
        ref[size_t(j)] += a * B[size_t(k * N + j)];
        mag[size_t(j)] += std::fabs(a * B[size_t(k * N + j)]);
      }
    }
    for (int64_t j = 0; j < N; ++j) {
      const double tol = 2.0 * double(K + 2) * std::numeric_limits<T>::epsilon() * mag[size_t(j)];
      if (!(std::fabs(C[size_t(i * N + j)] - ref[size_t(j)]) <= tol))
        return "mismatch at C(" + std::to_string(i) + "," + std::to_string(j) +
               "): " + std::to_string(C[size_t(i * N + j)]) + " vs " + std::to_string(ref[size_t(j)]);
    }
  }
  return {};
}

// Args: M, N, K, threads. C = A·B with beta = 0.
template <typename T>
void BM_gemm(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(state.range(3)));
  const std::vector<T> A = random_matrix<T>(M, K, 1), B = random_matrix<T>(K, N, 2);
  std::vector<T> C(size_t(M * N));

  auto run = [&] { seqgrad::kernels::gemm<T>(false, false, M, N, K, A.data(), K, B.data(), N, T(0), C.data(), N); };
  run();
  if (const std::string err = verify(M, N, K, A, B, C); !err.empty()) {
    state.SkipWithError(err.c_str());
    return;
  }
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * double(M) * double(N) * double(K) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void float_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {1, 2}) {
    for (auto [M, N, K] :
         {std::tuple<int64_t, int64_t, int64_t>{64, 1024, 384}, {1024, 1024, 1024}, {6400, 1024, 128}, {32, 512, 192}})
      b->Args({M, N, K, threads});
    // The recurrent shapes of the training benchmarks: M = B (one step) or B·T (all steps at once),
    // N = 4H gates, K = I + H, for (I, H) = (64, 128), (128, 256), (256, 512).
    for (int64_t M : {64, 6400})
      for (auto [I, H] : {std::pair<int64_t, int64_t>{64, 128}, {128, 256}, {256, 512}})
        if (!(M == 64 && H == 256)) b->Args({M, 4 * H, I + H, threads});  // 64×1024×384 is above
  }
}

void double_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {1, 2}) b->Args({1024, 1024, 1024, threads});
}

}  // namespace

BENCHMARK_TEMPLATE(BM_gemm, float)
    ->Apply(float_shapes)
    ->ArgNames({"M", "N", "K", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_gemm, double)
    ->Apply(double_shapes)
    ->ArgNames({"M", "N", "K", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
