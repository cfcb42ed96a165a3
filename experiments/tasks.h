// Synthetic sequence tasks shared by the demo, the examples and the experiments.
#pragma once

#include <cstdint>

#include "autograd/rng.h"
#include "autograd/tensor.h"

namespace seqgrad::tasks {

// The adding problem (Hochreiter & Schmidhuber 1997): each step carries (value ∈ U[0, 1), marker);
// exactly two steps are marked, one in each half; the target is the sum of the two marked values.
// Predicting the mean scores MSE ≈ 1/6.
struct Batch {
  Tensor x;       // (B, T, 2)
  Tensor target;  // (B, 1)
};
Batch adding_problem(Rng& rng, int64_t batch, int64_t steps);

}  // namespace seqgrad::tasks
