// Data-parallel step time at 1 and 2 ranks: the LSTM training step of bench_train (B64 T100 I128
// H256, MSE against a fixed target), the global batch of 64 split into 2 micro-batches of 32, so
// 1 rank × 2 micro-batches and 2 ranks × 1 do the same arithmetic. Times both combines (ordered
// chain and MPI_Allreduce) and prints the bytes each step communicates. Not part of the test suite.
//
//   mpirun --bind-to none -np 1 ./build/bench/seqgrad_bench_dist --threads 2
//   mpirun --bind-to none -np 2 ./build/bench/seqgrad_bench_dist --threads 1     # 2 ranks on 2 cores
// (Open MPI binds each of up to 2 ranks to one core by default: without --bind-to none a 1-rank run's
// second thread shares its core and the 1-rank time is the 1-thread time.)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <tbb/global_control.h>

#include "dist/communicator.h"
#include "dist/data_parallel.h"
#include "nn/cells.h"
#include "nn/recurrent.h"
#include "optim/adam.h"

using namespace seqgrad;

namespace {

constexpr int64_t kGlobalBatch = 64, kMicroBatches = 2, kT = 100, kI = 128, kH = 256;

struct Settings {
  int64_t threads = 1, steps = 10, warmup = 2;
};

// "--threads N --steps N --warmup N".
Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const int64_t value = std::stoll(argv[i + 1]);
    if (name == "--threads") s.threads = value;
    else if (name == "--steps") s.steps = value;
    else if (name == "--warmup") s.warmup = value;
    else throw std::invalid_argument("bench_dist: unknown option " + name);
  }
  if (s.threads <= 0 || s.steps <= 0 || s.warmup < 0)
    throw std::invalid_argument("bench_dist: --threads and --steps must be > 0 and --warmup >= 0");
  return s;
}

// Median seconds per step of `steps` data-parallel steps in `combine` mode, after `warmup` steps.
double median_step_seconds(dist::Communicator& world, dist::Combine combine, const Settings& s, int64_t* grad_bytes) {
  Rng rng(42);
  nn::Lstm cell(kI, kH, rng);
  optim::Adam adam(cell.named_parameters(), {.lr = 1e-3});
  const int64_t micro_batches = kMicroBatches / world.size();
  dist::DataParallel dp(world, cell, adam, {.micro_batches = micro_batches, .combine = combine, .digest_every = 0});
  *grad_bytes = dp.gradient_bytes();
  std::vector<Tensor> inputs, targets;  // per global micro-batch, fixed
  for (int64_t i = 0; i < kMicroBatches; ++i) {
    Rng data(dist::micro_batch_seed(1, 0, i));
    inputs.push_back(Tensor::uniform({kGlobalBatch / kMicroBatches, kT, kI}, data, -1, 1));
    targets.push_back(Tensor::uniform({kGlobalBatch / kMicroBatches, kT, kH}, data, -1, 1));
  }
  Tape tape(1 << 14);
  auto micro_batch = [&](int64_t, int64_t i) {
    tape.reset();
    Var loss = mse(nn::unroll(cell, tape.constant(inputs[size_t(i)])).output, tape.constant(targets[size_t(i)]));
    tape.backward(loss);
    return loss.item();
  };
  std::vector<double> times;
  for (int64_t k = 0; k < s.warmup + s.steps; ++k) {
    world.barrier();
    const auto start = std::chrono::steady_clock::now();
    dp.step(micro_batch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (k >= s.warmup) times.push_back(seconds);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  dist::Environment env(argc, argv);
  dist::Communicator world;
  try {
    const Settings s = parse(argc, argv);
    if (kMicroBatches % world.size() != 0) throw std::invalid_argument("bench_dist: run at 1 or 2 ranks");
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(s.threads));
    for (dist::Combine combine : {dist::Combine::ordered, dist::Combine::allreduce}) {
      int64_t g = 0;
      const double t = median_step_seconds(world, combine, s, &g);
      // Bytes sent per step, summed over ranks: ordered = all-to-all of m segments + allgather; allreduce = ring.
      const int64_t r = world.size(), m = kMicroBatches / r;
      const int64_t wire = combine == dist::Combine::ordered ? (m + 1) * (r - 1) * g : 2 * (r - 1) * g;
      if (world.is_root())
        std::printf(
            "LSTM B%lld T%lld I%lld H%lld  ranks %lld x %lld threads  combine %-9s  step %.2f ms (median of %lld)"
            "  gradient %lld bytes, on the wire %lld bytes per step\n",
            (long long)kGlobalBatch, (long long)kT, (long long)kI, (long long)kH, (long long)r, (long long)s.threads,
            dist::to_string(combine), t * 1e3, (long long)s.steps, (long long)g, (long long)wire);
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_dist: rank " << world.rank() << ": " << e.what() << "\n";
    world.abort(2);
  }
}
