// The same seed gives bitwise-identical forward and backward results at any thread count.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>

#include <atomic>
#include <chrono>

#include "nn/cells.h"
#include "nn/recurrent.h"
#include "testing.h"

using namespace seqgrad;

namespace {

struct Result {
  Tensor loss, gW, gU, gb, gx;
};

// A GEMM-heavy recurrent graph large enough that every kernel takes its parallel path:
// h_t = tanh(x_t·Wᵀ + h·Uᵀ + b) over 4 steps, B = 64, H = 512, then a softmax classifier.
Result run_graph(DType dtype) {
  Rng rng(99);
  const int64_t B = 64, I = 256, H = 512, C = 10;
  Tensor W = Tensor::normal({H, I}, rng, 0, 0.05, dtype), U = Tensor::normal({H, H}, rng, 0, 0.05, dtype);
  Tensor b = Tensor::normal({H}, rng, 0, 0.1, dtype), V = Tensor::normal({C, H}, rng, 0, 0.05, dtype);
  Tensor gW, gU, gb, gV;
  std::vector<int64_t> targets(B);
  for (auto& t : targets) t = int64_t(rng.below(C));
  Tape tape;
  Var w = tape.bind(W, gW), u = tape.bind(U, gU), bias = tape.bind(b, gb), v = tape.bind(V, gV);
  Var x0 = tape.variable(Tensor::normal({B, I}, rng, 0, 1, dtype));
  Var h = tape.constant(Tensor::zeros({B, H}, dtype));
  for (int t = 0; t < 4; ++t) {
    Var x = t == 0 ? x0 : tape.constant(Tensor::normal({B, I}, rng, 0, 1, dtype));
    h = tanh(affine(x, w, h, u, bias));
  }
  Var logits = matmul(h, transpose(v));
  Var loss = cross_entropy(logits, targets) + mean(sigmoid(h) * h);
  tape.backward(loss);
  return {loss.value().clone(), gW, gU, gb, x0.grad()};
}

Result run_with_threads(int threads, DType dtype) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(threads));
  return run_graph(dtype);
}

}  // namespace

TEST_CASE("forward and backward are bitwise identical with 1, 2 and 4 threads", "[determinism]") {
  for (DType dtype : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dtype));
    Result one = run_with_threads(1, dtype);
    for (int threads : {2, 4}) {
      INFO(threads << " threads");
      Result r = run_with_threads(threads, dtype);
      CHECK(bitwise_equal(r.loss, one.loss));
      CHECK(bitwise_equal(r.gW, one.gW));
      CHECK(bitwise_equal(r.gU, one.gU));
      CHECK(bitwise_equal(r.gb, one.gb));
      CHECK(bitwise_equal(r.gx, one.gx));
    }
    CHECK(std::isfinite(one.loss.item()));
  }
}

// An LSTM train step at the benchmark's batch and width, B = 64, H = 256: its (B, H) elementwise ops
// (16,384 elements, above kElementGrain) and every GEMM run in parallel; the same bits at 1, 2, 4 threads.
TEST_CASE("LSTM unroll at B64 H256 is bitwise thread-invariant", "[determinism]") {
  auto run = [](int threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(threads));
    Rng rng(5);
    nn::Lstm cell(64, 256, rng);
    Tape tape;
    Var x = tape.variable(Tensor::normal({64, 3, 64}, rng));
    Var loss = mean(nn::unroll(cell, x).output * tape.constant(Tensor::normal({64, 3, 256}, rng)));
    tape.backward(loss);
    return std::vector<Tensor>{loss.value().clone(), x.grad(), cell.weight_ih.grad, cell.weight_hh.grad,
                               cell.bias.grad};
  };
  const std::vector<Tensor> one = run(1);
  for (int threads : {2, 4}) {
    const std::vector<Tensor> r = run(threads);
    for (size_t i = 0; i < r.size(); ++i) {
      INFO(threads << " threads, tensor " << i);
      CHECK(bitwise_equal(r[i], one[i]));
    }
  }
}

// Not a test of seqgrad but of the ThreadSanitizer set-up: scripts/tsan.sh runs this hidden case
// and requires TSan to report its deliberate race, proving that TSan sees races between
// parallel_for bodies through the instrumented oneTBB. The two bodies wait for each other with
// relaxed atomics (which order nothing), so they overlap and neither happens before the other.
TEST_CASE("tsan canary: two parallel_for bodies write one int", "[.tsan-canary]") {
  std::atomic<int> arrived{0};
  int shared = 0;
  tbb::parallel_for(tbb::blocked_range<int>(0, 2, 1), [&](const tbb::blocked_range<int>&) {
    arrived.fetch_add(1, std::memory_order_relaxed);
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (arrived.load(std::memory_order_relaxed) < 2 && std::chrono::steady_clock::now() < give_up) {}
    shared = shared + 1;  // the race
  });
  CHECK(arrived.load() == 2);  // both bodies ran on different threads at the same time
}
