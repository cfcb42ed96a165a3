// Data-parallel training over MPI ranks: every rank holds the whole model, runs its own share of
// each step's micro-batches, and the gradients are combined so every rank applies the SAME
// optimiser step; parameters stay identical (checked by a digest every N steps).
//
//   dist::Environment env(argc, argv);
//   dist::Communicator world;
//   dist::DataParallel dp(world, model, adam, {.micro_batches = 2, .max_grad_norm = 1.0, .config = text});
//   for (...) loss = dp.step([&](int64_t step, int64_t i) {   // global micro-batch i of this step
//     tape.reset();
//     Rng data(dist::micro_batch_seed(seed, step, i));        // its data: a function of (step, i) only
//     ...forward...; tape.backward(loss); return loss.item();
//   });
//
// THE STEP, defined so the rank count changes no bit. N = R·m micro-batches per step; rank r runs
// global micro-batches r·m … r·m + m − 1. Each micro-batch's gradient g_i is computed on its own
// (backward into zeroed gradients) and the step's gradient is the left fold in global order, in the
// parameters' dtype, divided by N (the MEAN over micro-batches: with per-micro-batch mean losses of
// equal-sized micro-batches, the mean over all examples):
//     G = (((0 + g_0) + g_1) + … + g_{N−1}) / N
// A single process accumulating N micro-batches this way gets the same bits, so R ranks × m
// micro-batches equal 1 process × R·m, and any R'·m' = R·m (hence resume at any rank count). The
// reported loss is the same fold of the micro-batch losses (in double), / N. Clipping (by global L2
// norm, optim::clip_grad_norm) is applied to G, then optimizer.step().
//
// Combine::ordered computes G exactly, as a reduce-scatter whose order is fixed: the flat gradient
// is cut into R segments and rank j owns segment j. One all-to-all sends rank j segment j of every
// micro-batch gradient; they arrive in rank order, which is global micro-batch order, so rank j
// computes the fold above for its segment; one allgather gives every rank all of G.
// Combine::allreduce folds locally and sums the ranks' partial sums with MPI_Allreduce: the ranks
// still agree (every rank gets MPI's one result; the digest check watches it), but the bits depend
// on R and on MPI's reduction order, so they differ from single-process accumulation.
//
// COST per step, G = gradient bytes (4 × #parameters in f32), R ranks, latency α, bandwidth β
// (full-duplex links, a switched network):
//   ordered:   each rank sends and receives m·G·(R − 1)/R (all-to-all), then G·(R − 1)/R (allgather):
//              time ≈ 2(R − 1)·α + (m + 1)·G·(R − 1)/(R·β)
//   allreduce: ring ≈ 2(R − 1)·α + 2·G·(R − 1)/(R·β) (recursive doubling for small G: ⌈log2 R⌉·(α + G/β))
// With one micro-batch per rank (m = 1) the exact order costs what a ring allreduce costs; with m
// micro-batches per rank it sends each one's segments, (m + 1)/2 times the allreduce's bytes. Memory:
// the m flat gradients, twice more for the all-to-all's buffers (3m·G + G in all; allreduce m·G + G).
// Both also allgather the losses (8·m bytes per rank).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "nn/module.h"
#include "optim/clip.h"
#include "optim/optimizer.h"

namespace seqgrad::dist {

enum class Combine { ordered, allreduce };
const char* to_string(Combine combine);  // "ordered", "allreduce"

struct DataParallelOptions {
  int64_t micro_batches = 1;  // m, per rank and step (> 0)
  Combine combine = Combine::ordered;
  double max_grad_norm = 0;    // > 0: clip the combined gradient to this global L2 norm
  int64_t digest_every = 100;  // compare parameter digests across ranks after every this many steps (0: never)
  std::string config = "";     // the run's settings: must be the same text on every rank
};

// The seed of global micro-batch `global_index` of step `step`: data and masks drawn from
// Rng(micro_batch_seed(seed, step, i)) depend on neither the rank nor the rank count.
uint64_t micro_batch_seed(uint64_t seed, int64_t step, int64_t global_index);

// 64-bit FNV-1a over a tensor's dtype, shape and value bytes; of a module: over its parameters'
// names and digests, in order.
uint64_t digest(const Tensor& t);
uint64_t digest(nn::Module& module);
std::string hex(uint64_t v);  // 16 hex digits

class DataParallel {
 public:
  // Runs forward and backward of global micro-batch `global_index` of step `step` into the model's
  // gradients (zero on entry) and returns its loss.
  using MicroBatch = std::function<double(int64_t step, int64_t global_index)>;

  // Collective. Checks that every rank has the same configuration (parameter names, shapes, dtypes,
  // options, optimiser, config text) and throws on EVERY rank naming the first rank and line that
  // differ; then copies rank 0's parameter values to every rank.
  DataParallel(Communicator& comm, nn::Module& model, optim::Optimizer& optimizer, DataParallelOptions options = {});

  // Collective: one training step (see the file comment); returns the mean loss over the N micro-batches.
  // An exception from micro_batch on one rank leaves the others waiting in the combine: catch it in
  // main and end the job with Communicator::abort (as dist/examples/train_dp.cpp does).
  double step(const MicroBatch& micro_batch);
  // Collective: throws on every rank, naming the first rank and parameter that differ from rank 0's.
  void check_digests();

  int64_t steps() const { return optimizer_.steps(); }  // the step count lives in the optimiser (checkpointed)
  int64_t micro_batches() const { return options_.micro_batches; }
  int64_t global_micro_batches() const { return options_.micro_batches * comm_.size(); }  // N
  int64_t first_micro_batch() const { return options_.micro_batches * comm_.rank(); }
  int64_t gradient_bytes() const;  // G: the bytes of one flattened gradient
  const optim::ClipStats& clip_stats() const { return clip_stats_; }
  const DataParallelOptions& options() const { return options_; }

 private:
  std::string describe() const;  // one line per setting and parameter, compared across ranks
  void check_same_configuration() const;
  void broadcast_parameters();
  void combine();          // grads_ -> total_ (the fold, not yet divided by N)
  void combine_ordered();  // the same by the fixed-order reduce-scatter (see the file comment)
  double mean_loss(const std::vector<double>& mine) const;

  Communicator& comm_;
  nn::Module& model_;
  optim::Optimizer& optimizer_;
  DataParallelOptions options_;
  optim::NamedParameters params_;
  std::vector<Tensor> grads_;   // m flat gradients (P), one per local micro-batch
  Tensor total_;                // (P): the fold over all N micro-batches
  Tensor outgoing_, incoming_;  // ordered: (m·P) my segments by destination, (N·⌈P/R⌉) my segment's pieces
  optim::ClipStats clip_stats_;
};

}  // namespace seqgrad::dist
