// Training step (forward + backward, loss = MSE to a fixed target, no optimiser) of the standard
// cells through nn::unroll / nn::Recurrent exactly as a user writes it, at 1 and 2 threads; and
// streaming inference: one LSTM step at B = 1 under NoGradGuard, microseconds per step.
#include <benchmark/benchmark.h>
#include <oneapi/tbb/global_control.h>

#include <memory>

#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/cells.h"
#include "nn/recurrent.h"

using namespace seqgrad;

namespace {

enum Kind : int64_t { kLstm = 0, kGru = 1, kRnn = 2, kBiLstm2 = 3 };

std::unique_ptr<nn::Cell> make_cell(int64_t kind, int64_t I, int64_t H, Rng& rng) {
  if (kind == kLstm) return std::make_unique<nn::Lstm>(I, H, rng);
  // reset_after is PyTorch's nn.GRU form, so the comparison is like for like.
  if (kind == kGru) return std::make_unique<nn::Gru>(I, H, rng, nn::GruForm::reset_after);
  return std::make_unique<nn::Elman>(I, H, rng);
}

// Args: kind, B, T, I, H, threads.
void BM_train_step(benchmark::State& state) {
  const int64_t kind = state.range(0), B = state.range(1), T = state.range(2), I = state.range(3), H = state.range(4);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(state.range(5)));
  Rng rng(42);
  std::unique_ptr<nn::Cell> cell;
  std::unique_ptr<nn::Recurrent> stack;
  if (kind == kBiLstm2)
    stack = std::make_unique<nn::Recurrent>(nn::cell_factory<nn::Lstm>(), I, H, rng,
                                            nn::RecurrentOptions{.num_layers = 2, .bidirectional = true});
  else cell = make_cell(kind, I, H, rng);
  const int64_t out_features = kind == kBiLstm2 ? 2 * H : H;
  const Tensor x = Tensor::uniform({B, T, I}, rng, -1, 1);
  const Tensor target = Tensor::uniform({B, T, out_features}, rng, -1, 1);
  Tape tape(1 << 14);
  double loss_value = 0;
  for (auto _ : state) {
    tape.reset();
    if (stack) stack->zero_grad();
    else cell->zero_grad();
    Var xv = tape.constant(x);
    Var out = stack ? stack->forward(xv, rng).output : nn::unroll(*cell, xv).output;
    Var loss = mse(out, tape.constant(target));
    tape.backward(loss);
    loss_value = loss.item();
  }
  benchmark::DoNotOptimize(loss_value);
}

void train_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {1, 2}) {
    for (int64_t kind : {kLstm, kGru, kRnn}) {
      b->Args({kind, 32, 50, 64, 128, threads});
      b->Args({kind, 64, 100, 128, 256, threads});
      b->Args({kind, 64, 100, 256, 512, threads});
    }
    b->Args({kBiLstm2, 32, 50, 64, 128, threads});
  }
}

// Streaming: the state lives off the tape between steps (as in a real-time loop); each step
// re-binds the parameters to a reset tape and runs one cell step without recording gradients.
// Args: I, H, threads.
void BM_lstm_stream_step(benchmark::State& state) {
  const int64_t I = state.range(0), H = state.range(1);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(state.range(2)));
  Rng rng(7);
  nn::Lstm cell(I, H, rng);
  cell.eval();
  const Tensor x = Tensor::uniform({1, I}, rng, -1, 1);
  nn::StateValues s{Tensor::zeros({1, H}), Tensor::zeros({1, H})};
  Tape tape(64);
  NoGradGuard no_grad;
  for (auto _ : state) {
    tape.reset();
    nn::State n = cell.step(tape.constant(x), nn::constants_of(tape, s));
    s.h = n.h.value();  // shares storage; the tape reset only drops the nodes
    s.c = n.c.value();
  }
  benchmark::DoNotOptimize(s.h.raw());
}

}  // namespace

BENCHMARK(BM_train_step)
    ->Apply(train_shapes)
    ->ArgNames({"cell", "B", "T", "I", "H", "threads"})
    ->UseRealTime()
    ->MeasureProcessCPUTime()  // CPU column = whole process: shows how much the 2 threads overlap
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_lstm_stream_step)
    ->Args({128, 256, 1})
    ->Args({128, 256, 2})
    ->ArgNames({"I", "H", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
