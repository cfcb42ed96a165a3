// Gradient clipping (Pascanu et al. 2013): rescale all gradients when their global norm, taken as if
// they were one concatenated vector, exceeds a threshold; or clamp each element. The norm is summed
// in a fixed order (fixed blocks in double, then parameters in order), so it is bitwise identical at
// any thread count. ClipStats keeps how often clipping fired and the norm history, for plots.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace seqgrad::optim {

struct ClipStats {
  int64_t calls = 0;          // clip_grad_norm calls recorded
  int64_t clipped = 0;        // calls that rescaled the gradients
  int64_t nonfinite = 0;      // calls whose norm was inf or NaN (gradients left untouched)
  std::vector<double> norms;  // the pre-clip norm of every call, in order

  void record(double norm, bool was_clipped);
  double clip_fraction() const { return calls ? double(clipped) / double(calls) : 0.0; }
  // Exact save/load: counts under "<prefix>calls|clipped|nonfinite", norms as the f64 tensor "<prefix>norms".
  void save(nn::Checkpoint& ckpt, const std::string& prefix = "clip/") const;
  void load(const nn::Checkpoint& ckpt, const std::string& prefix = "clip/");
};

constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// Global norm of order norm_type (> 0, or kInfNorm for max |g|) of all defined gradients.
double grad_norm(const NamedParameters& params, double norm_type = 2.0);

// Scales every gradient by max_norm / (norm + 1e-6) when that is < 1 (as torch); returns the
// pre-clip norm. A non-finite norm throws when error_if_nonfinite (naming the first parameter with
// a non-finite gradient); otherwise the gradients are left untouched and the caller decides
// (e.g. skips the step). Records into `stats` when given.
double clip_grad_norm(const NamedParameters& params, double max_norm, double norm_type = 2.0,
                      bool error_if_nonfinite = false, ClipStats* stats = nullptr);

// Clamps every gradient element into [−clip, clip] (NaN stays NaN).
void clip_grad_value(const NamedParameters& params, double clip);

}  // namespace seqgrad::optim
