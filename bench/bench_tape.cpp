// Tape overhead: forward + backward of a chain of tiny ops, reported as ns per op. The ops touch
// 4 elements each, so the time is the tape's bookkeeping (node, closure, gradient), not arithmetic.
// BM_tape_overhead_anomaly runs the same chain with anomaly detection on: next to BM_tape_overhead
// (where it is off, one untaken branch per op) it is the price of the NaN/Inf checks.
#include <benchmark/benchmark.h>

#include "autograd/ops.h"

using namespace seqgrad;

static void run_tape_chain(benchmark::State& state, bool anomaly_detection) {
  const int64_t ops = state.range(0);
  Tape tape(size_t(ops) + 8);
  tape.set_anomaly_detection(anomaly_detection);
  Tensor x0 = Tensor::full({4}, 0.5);
  for (auto _ : state) {
    tape.reset();
    Var x = tape.variable(x0);
    Var h = x;
    for (int64_t i = 0; i < ops / 2; ++i) h = tanh(h * 0.9);  // 2 ops per iteration
    tape.backward(sum(h));
    benchmark::DoNotOptimize(x.grad().raw());
  }
  // ops per second, inverted: seconds per op (printed with an SI prefix, e.g. "95n" = 95 ns).
  state.counters["time_per_op"] =
      benchmark::Counter(double(ops), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

static void BM_tape_overhead(benchmark::State& state) { run_tape_chain(state, false); }
static void BM_tape_overhead_anomaly(benchmark::State& state) { run_tape_chain(state, true); }
BENCHMARK(BM_tape_overhead)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_tape_overhead_anomaly)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);
