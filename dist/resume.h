// Crash-safe data-parallel training: optim::Resumable's checkpoint (parameters, optimiser state,
// step, metric histories), written by rank 0 alone, atomically, and read by every rank. The file
// holds nothing rank-specific (data comes from dist::micro_batch_seed(seed, step, i)), so a run
// resumes at ANY rank count: only R·m, the micro-batches per step, must stay the same (put it in
// `config`, which a resume checks).
//
//   dist::Resumable run(world, "run.ckpt", model, adam, {.every = 100, .config = text});
//   for (int64_t step = run.resume(); step < steps; ++step) {
//     run.history("loss").push_back(dp.step(micro_batch));
//     if (!run.after_step(step + 1)) return 128 + optim::Resumable::stop_signal();
//   }
//   run.save(steps);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "optim/resume.h"

namespace seqgrad::dist {

class Resumable {
 public:
  // Rngs are not taken: a per-rank Rng would be rank-specific state; derive randomness from
  // micro_batch_seed instead.
  Resumable(Communicator& comm, std::string path, nn::Module& model, optim::Optimizer& optimizer,
            optim::ResumeOptions options = {});

  // Collective: every rank loads the file (when it exists) and returns its step. Throws on every
  // rank when any rank fails to load it, or when the ranks read different steps (the path must be
  // on a file system every rank sees).
  int64_t resume();
  // Collective: after step `steps_done`; saves every `every` steps, or when a stop signal reached
  // any rank (one 4-byte allreduce per call asks them). Returns false (on every rank) when the loop
  // should stop.
  bool after_step(int64_t steps_done);
  // Collective: rank 0 writes the checkpoint atomically; no rank returns before the file is complete,
  // and a write error throws on every rank.
  void save(int64_t steps_done);

  std::vector<double>& history(const std::string& name) { return run_.history(name); }
  const std::string& path() const { return run_.path(); }

 private:
  Communicator& comm_;
  optim::ResumeOptions options_;
  optim::Resumable run_;
};

}  // namespace seqgrad::dist
