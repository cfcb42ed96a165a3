// Synthetic sequence tasks.
#include "experiments/tasks.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace seqgrad::tasks {

Batch adding_problem(Rng& rng, int64_t batch, int64_t steps) {
  if (batch <= 0 || steps < 2)
    throw std::invalid_argument("adding_problem: needs batch >= 1 and steps >= 2, got " + std::to_string(batch) +
                                " and " + std::to_string(steps));
  std::vector<double> x(size_t(batch * steps * 2)), sums(size_t(batch), 0.0);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t half = steps / 2;
    const int64_t first = int64_t(rng.below(uint64_t(half))),
                  second = half + int64_t(rng.below(uint64_t(steps - half)));
    for (int64_t t = 0; t < steps; ++t) {
      const double value = rng.uniform(), marked = (t == first || t == second) ? 1.0 : 0.0;
      x[size_t((b * steps + t) * 2)] = value;
      x[size_t((b * steps + t) * 2 + 1)] = marked;
      sums[size_t(b)] += value * marked;
    }
  }
  return {Tensor::from({batch, steps, 2}, x), Tensor::from({batch, 1}, sums)};
}

}  // namespace seqgrad::tasks
