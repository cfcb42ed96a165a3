// Crash-safe training: everything a training loop's future depends on (parameters, optimiser state,
// the Rngs, the step and the metric history) in one checkpoint, written atomically every N steps
// and when SIGINT/SIGTERM asks the run to stop. A run killed at any moment (even by SIGKILL)
// resumes from its last checkpoint and finishes bitwise identical to an uninterrupted run, since
// steps after the checkpoint are simply done again from the same state.
//
//   optim::Resumable run("run.ckpt", model, adam, {{"data", &rng}}, {.every = 100});
//   for (int64_t step = run.resume(); step < steps; ++step) {   // 0 on a fresh start
//     ...forward, backward, adam.step()...;
//     run.history("loss").push_back(loss.item());
//     if (!run.after_step(step + 1)) return 128 + optim::Resumable::stop_signal();  // checkpointed
//   }
//   run.save(steps);                                           // the final state
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "autograd/rng.h"
#include "nn/io/checkpoint.h"
#include "nn/module.h"
#include "optim/optimizer.h"

namespace seqgrad::optim {

struct ResumeOptions {
  int64_t every = 100;              // checkpoint after every this many steps (> 0)
  bool handle_stop_signals = true;  // SIGINT/SIGTERM: checkpoint at the next step, then stop
                                    // (installed while any Resumable lives; the flag is reset
                                    // when the first one installs them)
  std::string config = "";          // the run's configuration; a resume under another one throws
};

class Resumable {
 public:
  Resumable(std::string path, nn::Module& model, Optimizer& optimizer, std::vector<std::pair<std::string, Rng*>> rngs,
            ResumeOptions options = {});
  ~Resumable();  // restores the previous signal handlers
  Resumable(const Resumable&) = delete;
  Resumable& operator=(const Resumable&) = delete;

  // Loads the checkpoint if the file exists (model, optimiser, Rngs, histories) and returns its
  // step; 0 (and nothing changed) when there is none. Throws naming the file when it is corrupt,
  // belongs to another model or optimiser, or was written under a different config; a resume that
  // throws leaves model, optimiser and Rngs as they were.
  int64_t resume();
  // Call after step `steps_done` finished: saves every `every` steps, and when a stop signal has
  // arrived. Returns false when the loop should stop (a signal came; the checkpoint is written).
  bool after_step(int64_t steps_done);
  void save(int64_t steps_done);  // atomically, now

  // A named per-step metric series kept in the checkpoint (so a resumed run's metrics are whole).
  std::vector<double>& history(const std::string& name) { return histories_[name]; }
  const std::string& path() const { return path_; }

  // True once SIGINT or SIGTERM arrived while a Resumable handled them (async-signal-safe flag);
  // stop_signal() is that signal's number (0 before).
  static bool stop_requested() { return stop_signal() != 0; }
  static int stop_signal();

 private:
  nn::Checkpoint capture() const;            // model, optimiser and Rngs
  void restore(const nn::Checkpoint& ckpt);  // their inverse
  std::string path_;
  nn::Module& model_;
  Optimizer& optimizer_;
  std::vector<std::pair<std::string, Rng*>> rngs_;
  ResumeOptions options_;
  std::map<std::string, std::vector<double>> histories_;
  bool installed_handlers_ = false;
};

}  // namespace seqgrad::optim
