// Data-parallel training under `mpirun -np 2` (and the bitwise test also at 3): bitwise equality with single-process
// gradient accumulation written out by hand, identical parameters on every rank (and the digest error naming the first
// diverging parameter), the allreduce mode, mismatched configurations giving the same clear error on every rank, and
// checkpoints written by rank 0 resumed at another rank count.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstring>
#include <filesystem>

#include "dist/communicator.h"
#include "dist/data_parallel.h"
#include "dist/examples/adding_task.h"
#include "dist/resume.h"
#include "optim/adam.h"
#include "optim/clip.h"

using namespace seqgrad;
using Catch::Matchers::Contains;

namespace {

constexpr int64_t kHidden = 8, kBatch = 4, kLength = 6, kSteps = 4;
constexpr uint64_t kDataSeed = 7;

// A model and its Adam, built the same way from init_seed on every rank.
struct Trainer {
  explicit Trainer(int64_t hidden = kHidden, uint64_t init_seed = 1)
      : init(init_seed), model(hidden, init), adam(model.named_parameters(), {.lr = 1e-2}) {}

  // Forward and backward of global micro-batch i of `step` into the gradients; returns its loss.
  double micro_batch(int64_t step, int64_t i) {
    tape.reset();
    Rng data(dist::micro_batch_seed(kDataSeed, step, i));
    Var loss = model.loss(tape, tasks::adding_problem(data, kBatch, kLength), no_masks);
    tape.backward(loss);
    return loss.item();
  }
  dist::DataParallel::MicroBatch fn() {
    return [this](int64_t step, int64_t i) { return micro_batch(step, i); };
  }

  Rng init;
  dist::example::AddingModel model;
  optim::Adam adam;
  Tape tape;
  Rng no_masks{0};
};

// The definition of a step, written out independently of dist/: n micro-batches, each from zeroed
// gradients, summed left to right in float starting at +0, divided by n, clipped, one Adam step.
void reference_step(Trainer& t, int64_t n, double max_norm) {
  auto params = t.model.named_parameters();
  std::vector<std::vector<float>> sums;
  for (auto& [name, p] : params) sums.emplace_back(size_t(p->value.numel()), 0.0f);
  const int64_t step = t.adam.steps();
  for (int64_t i = 0; i < n; ++i) {
    t.model.zero_grad();
    t.micro_batch(step, i);
    for (size_t k = 0; k < params.size(); ++k)
      for (size_t e = 0; e < sums[k].size(); ++e) sums[k][e] += params[k].second->grad.data<float>()[e];
  }
  for (size_t k = 0; k < params.size(); ++k)
    for (size_t e = 0; e < sums[k].size(); ++e) params[k].second->grad.data<float>()[e] = sums[k][e] / float(n);
  if (max_norm > 0) optim::clip_grad_norm(params, max_norm);
  t.adam.step();
}

// Name of the first parameter whose bits differ between a and b ("" when all are identical).
std::string first_different(nn::Module& a, nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (size_t k = 0; k < pa.size(); ++k) {
    const Tensor &x = pa[k].second->value, &y = pb[k].second->value;
    if (!(x.shape() == y.shape()) || std::memcmp(x.raw(), y.raw(), size_t(x.numel()) * dtype_size(x.dtype())) != 0)
      return pa[k].first;
  }
  return "";
}

// Largest |a − b| over all parameters.
double max_abs_difference(nn::Module& a, nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  double worst = 0;
  for (size_t k = 0; k < pa.size(); ++k) {
    const auto x = pa[k].second->value.to_vector(), y = pb[k].second->value.to_vector();
    for (size_t e = 0; e < x.size(); ++e) worst = std::max(worst, std::abs(x[e] - y[e]));
  }
  return worst;
}

// A fresh directory named by rank 0, the same path on every rank.
std::string shared_temp_dir(dist::Communicator& world, const std::string& tag) {
  std::string dir;
  if (world.is_root()) {
    dir = (std::filesystem::temp_directory_path() / ("seqgrad_dist_" + tag + "_" + std::to_string(getpid()))).string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  return world.allgather(dir)[0];
}

}  // namespace

TEST_CASE("R ranks x m micro-batches equal 1 process accumulating R·m, bit for bit", "[dist][bitwise]") {
  dist::Communicator world;
  const int64_t ranks = world.size();
  REQUIRE(ranks >= 2);  // run at 2 and at 3 ranks (segments of unequal size)
  for (int64_t m : {1, 2}) {
    CAPTURE(m);
    Trainer dp_trainer, reference, single, initial;
    dist::DataParallel dp(world, dp_trainer.model, dp_trainer.adam,
                          {.micro_batches = m, .max_grad_norm = 0.05, .digest_every = 1});
    dist::Communicator self = dist::Communicator::self();
    dist::DataParallel one(self, single.model, single.adam, {.micro_batches = ranks * m, .max_grad_norm = 0.05});
    for (int64_t s = 0; s < kSteps; ++s) {
      dp.step(dp_trainer.fn());
      one.step(single.fn());
      reference_step(reference, ranks * m, 0.05);
    }
    CHECK(dp.clip_stats().clipped > 0);  // clipping of the combined gradient was exercised
    CHECK(max_abs_difference(dp_trainer.model, initial.model) > 1e-3);  // and training moved the parameters
    CHECK(first_different(dp_trainer.model, reference.model) == "");
    CHECK(first_different(single.model, reference.model) == "");
  }
}

TEST_CASE("parameters stay identical on every rank; a divergence names the rank and first parameter",
          "[dist][digest]") {
  dist::Communicator world;
  REQUIRE(world.size() == 2);
  Trainer t;
  dist::DataParallel dp(world, t.model, t.adam, {.micro_batches = 2, .digest_every = 2});
  for (int64_t s = 0; s < kSteps; ++s) dp.step(t.fn());
  const uint64_t mine = dist::digest(t.model);
  const auto all = world.allgather(std::span<const uint64_t>(&mine, 1));
  CHECK(all[0] == all[1]);
  REQUIRE_NOTHROW(dp.check_digests());
  if (world.rank() == 1) {  // corrupt two parameters on rank 1: the error names the first in order
    t.model.head.weight.value.data<float>()[0] += 1.0f;
    t.model.rnn.named_parameters()[1].second->value.data<float>()[3] += 1.0f;
  }
  REQUIRE_THROWS_WITH(dp.check_digests(),
                      Contains("after step 4, rank 1's parameter 'rnn.l0.weight_hh' differs from rank 0's"));
}

TEST_CASE("allreduce mode keeps ranks identical and matches accumulation to rounding", "[dist][allreduce]") {
  dist::Communicator world;
  REQUIRE(world.size() == 2);
  Trainer t, reference, initial;
  dist::DataParallel dp(world, t.model, t.adam,
                        {.micro_batches = 2, .combine = dist::Combine::allreduce, .digest_every = 1});
  for (int64_t s = 0; s < kSteps; ++s) {
    dp.step(t.fn());
    reference_step(reference, 4, 0);
  }
  REQUIRE_NOTHROW(dp.check_digests());
  CHECK(max_abs_difference(t.model, reference.model) < 1e-4);
  CHECK(max_abs_difference(t.model, initial.model) > 1e-3);
}

TEST_CASE("mismatched configurations give the same clear error on every rank", "[dist][mismatch]") {
  dist::Communicator world;
  REQUIRE(world.size() == 2);
  const bool odd = world.rank() == 1;
  SECTION("a different hidden size") {
    Trainer t(odd ? kHidden + 1 : kHidden);
    REQUIRE_THROWS_WITH(
        dist::DataParallel(world, t.model, t.adam),
        Contains("DataParallel: rank 1's configuration differs from rank 0's at line") &&
            Contains(
                "rank 0 'parameter rnn.l0.weight_ih f32 (32, 2)', rank 1 'parameter rnn.l0.weight_ih f32 (36, 2)'"));
  }
  SECTION("a different config text") {
    Trainer t;
    REQUIRE_THROWS_WITH(dist::DataParallel(world, t.model, t.adam, {.config = odd ? "lr 0.2" : "lr 0.1"}),
                        Contains("rank 0 'lr 0.1', rank 1 'lr 0.2'"));
  }
  SECTION("a different number of micro-batches") {
    Trainer t;
    REQUIRE_THROWS_WITH(dist::DataParallel(world, t.model, t.adam, {.micro_batches = odd ? 3 : 2}),
                        Contains("rank 0 'micro_batches 2', rank 1 'micro_batches 3'"));
  }
}

TEST_CASE("a checkpoint written at 2 ranks resumes in 1 process with 2 micro-batches, bit for bit", "[dist][resume]") {
  dist::Communicator world;
  REQUIRE(world.size() == 2);
  const std::string dir = shared_temp_dir(world, "resume"), path = dir + "/run.ckpt";
  const optim::ResumeOptions options{.every = 2, .handle_stop_signals = false, .config = "global_micro_batches 2"};
  {
    Trainer t;
    dist::DataParallel dp(world, t.model, t.adam, {.micro_batches = 1});
    dist::Resumable run(world, path, t.model, t.adam, options);
    REQUIRE(run.resume() == 0);
    for (int64_t s = 0; s < kSteps / 2; ++s) {
      run.history("loss").push_back(dp.step(t.fn()));
      REQUIRE(run.after_step(s + 1));
    }
  }
  if (world.is_root()) {
    dist::Communicator self = dist::Communicator::self();
    Trainer t(kHidden, /*init_seed=*/99), reference;  // another initialisation: the checkpoint must replace it
    dist::DataParallel dp(self, t.model, t.adam, {.micro_batches = 2});
    dist::Resumable run(self, path, t.model, t.adam, options);
    REQUIRE(run.resume() == kSteps / 2);
    CHECK(run.history("loss").size() == size_t(kSteps / 2));
    for (int64_t s = kSteps / 2; s < kSteps; ++s) dp.step(t.fn());
    for (int64_t s = 0; s < kSteps; ++s) reference_step(reference, 2, 0);
    CHECK(first_different(t.model, reference.model) == "");
    std::filesystem::remove_all(dir);
  }
  world.barrier();
}

TEST_CASE("only rank 0 writes checkpoints; write and resume failures reach every rank", "[dist][checkpoint]") {
  dist::Communicator world;
  REQUIRE(world.size() == 2);
  const std::string dir = shared_temp_dir(world, "write");
  const std::string mine = dir + "/rank" + std::to_string(world.rank()) + ".ckpt";  // deliberately not shared
  Trainer t;
  dist::DataParallel dp(world, t.model, t.adam);
  dp.step(t.fn());
  {
    dist::Resumable run(world, mine, t.model, t.adam, {.handle_stop_signals = false});
    run.save(1);
    CHECK(std::filesystem::exists(mine) == world.is_root());
    REQUIRE_THROWS_WITH(run.resume(), Contains("rank 0 resumed at step 1 but rank 1 at step 0"));
  }
  dist::Resumable unwritable(world, dir + "/missing/run.ckpt", t.model, t.adam, {.handle_stop_signals = false});
  REQUIRE_THROWS_WITH(unwritable.save(1), Contains("dist::Resumable::save: rank 0:") && Contains("missing/run.ckpt"));
  world.barrier();
  if (world.is_root()) std::filesystem::remove_all(dir);
}
