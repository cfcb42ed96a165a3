// Elementwise and reduction kernels at 1e3, 1e5 and 1e7 float elements, 1 and 2 threads, as GB/s
// of memory traffic (bytes read + written once). Kernels, not ops: no tape in the loop.
#include <benchmark/benchmark.h>
#include <oneapi/tbb/global_control.h>

#include <cmath>

#include "autograd/kernels.h"
#include "autograd/rng.h"

using namespace seqgrad;

namespace {

enum Op : int64_t { kAdd = 0, kMul = 1, kTanh = 2, kSigmoid = 3, kLstmGate = 4, kSum = 5, kSumAxis = 6 };

// Args: op, n, threads.
void BM_kernel(benchmark::State& state) {
  const int64_t op = state.range(0), n = state.range(1);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(state.range(2)));
  Rng rng(3);
  const Tensor a = Tensor::uniform({n}, rng, -1, 1), b = Tensor::uniform({n}, rng, -1, 1),
               c = Tensor::uniform({n}, rng, -1, 1);
  // For the axis reduction: (rows, 200) summed over rows, like a bias gradient (200 divides every n).
  const Tensor a2 = a.reshape({-1, n >= 200 ? 200 : n});
  // tanh and sigmoid as the ops run them on float: the vectorised kernels, in the same fixed chunks.
  auto float_kernel = [&](void (*f)(const float*, float*, int64_t)) {
    Tensor y({n}, DType::f32);
    const float* pa = a.data<float>();
    float* py = y.data<float>();
    kernels::parallel_chunks(n, kernels::kElementGrain, [&](int64_t s, int64_t e) { f(pa + s, py + s, e - s); });
    return y;
  };
  int64_t bytes = 0;
  for (auto _ : state) {
    Tensor y;
    switch (op) {
      case kAdd:
        y = kernels::map2(a, b, [](auto p, auto q) { return p + q; });
        bytes = 3 * n;
        break;
      case kMul:
        y = kernels::map2(a, b, [](auto p, auto q) { return p * q; });
        bytes = 3 * n;
        break;
      case kTanh:
        y = float_kernel(kernels::tanh_f32);
        bytes = 2 * n;
        break;
      case kSigmoid:
        y = float_kernel(kernels::sigmoid_f32);
        bytes = 2 * n;
        break;
      case kLstmGate:  // c' = σ(f)·c + σ(i)·tanh(g) with f = a, c = b, i = g = c (one fused pass)
        y = kernels::map3(a, b, c, [](auto f, auto cc, auto g) {
          using T = decltype(f);
          return cc / (T(1) + std::exp(-f)) + std::tanh(g) / (T(1) + std::exp(-g));
        });
        bytes = 4 * n;
        break;
      case kSum:
        y = kernels::sum_all(a);
        bytes = n;
        break;
      case kSumAxis:
        y = kernels::sum_axis(a2, 0, false);
        bytes = n;
        break;
    }
    benchmark::DoNotOptimize(y.raw());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * bytes * int64_t(sizeof(float)));
}

void kernel_args(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {1, 2})
    for (int64_t op : {kAdd, kMul, kTanh, kSigmoid, kLstmGate, kSum, kSumAxis})
      for (int64_t n : {1000, 100000, 10000000}) b->Args({op, n, threads});
}

}  // namespace

// op: 0 add, 1 mul, 2 tanh, 3 sigmoid, 4 fused LSTM cell update (3 in, 1 out), 5 sum, 6 sum over axis 0.
BENCHMARK(BM_kernel)
    ->Apply(kernel_args)
    ->ArgNames({"op", "n", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
