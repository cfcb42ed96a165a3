// Learning-rate schedules. Each is a pure function of the step t = optimizer.steps() (the number of
// updates already taken), so a resumed run gets the same rates with no schedule state to save:
//   opt.set_lr(schedule(opt.steps())); opt.step();
// ReduceOnPlateau is the exception: it reacts to a metric, so it has state, saved exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "nn/io/checkpoint.h"

namespace seqgrad::optim {

using Schedule = std::function<double(int64_t step)>;

Schedule constant(double lr);                                     // lr
Schedule step_decay(double lr, int64_t step_size, double gamma);  // lr·γ^⌊t / step_size⌋
Schedule exponential(double lr, double gamma);                    // lr·γ^t
// min_lr + (lr − min_lr)·(1 + cos(π·min(t, period) / period)) / 2: stays at min_lr after `period`.
Schedule cosine(double lr, int64_t period, double min_lr = 0);
// Linear warm-up into `after`: after(0)·(t + 1) / warmup for t < warmup, then after(t − warmup)
// (the following schedule starts its own clock when the warm-up ends).
Schedule linear_warmup(int64_t warmup, Schedule after);

struct PlateauOptions {
  bool maximize = false;    // the metric should go up (accuracy) rather than down (loss)
  double factor = 0.1;      // lr ← max(lr·factor, min_lr), factor in (0, 1)
  int64_t patience = 10;    // bad metrics tolerated before reducing
  double threshold = 1e-4;  // improvement needed to count as better
  bool relative = true;     // threshold relative (best·(1 ∓ threshold)) or absolute (best ∓ threshold)
  int64_t cooldown = 0;     // metrics ignored after a reduction
  double min_lr = 0;
  double eps = 1e-8;  // reductions smaller than this are skipped
};

// torch.optim.lr_scheduler.ReduceLROnPlateau: feed it the metric after each evaluation.
class ReduceOnPlateau {
 public:
  explicit ReduceOnPlateau(double lr, PlateauOptions options = {});
  double step(double metric);  // returns the learning rate to use from now on
  double lr() const { return lr_; }
  double best() const { return best_; }
  int64_t bad_steps() const { return bad_; }
  int64_t cooldown_left() const { return cooldown_left_; }
  int64_t reductions() const { return reductions_; }

  // Exact save/load under "<prefix>lr|best|bad|cooldown|reductions" (doubles as hex bits).
  void save(nn::Checkpoint& ckpt, const std::string& prefix = "sched/plateau/") const;
  void load(const nn::Checkpoint& ckpt, const std::string& prefix = "sched/plateau/");

 private:
  bool better(double metric) const;
  PlateauOptions o_;
  double lr_, best_;
  int64_t bad_ = 0, cooldown_left_ = 0, reductions_ = 0;
};

}  // namespace seqgrad::optim
