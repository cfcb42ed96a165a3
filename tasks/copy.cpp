// The copy task (see tasks.h).
#include <cmath>
#include <stdexcept>
#include <string>

#include "tasks/checks.h"
#include "tasks/tasks.h"

namespace seqgrad::tasks {

namespace {

void require_copy(int64_t batch, int64_t delay, int64_t length, int64_t alphabet) {
  if (batch < 1 || delay < 1 || length < 1 || alphabet < 1)
    throw std::invalid_argument("copy_task: needs batch, delay, length and alphabet >= 1, got batch = " +
                                std::to_string(batch) + ", delay = " + std::to_string(delay) +
                                ", length = " + std::to_string(length) + ", alphabet = " + std::to_string(alphabet));
}

}  // namespace

Batch copy_task(Rng& rng, int64_t batch, int64_t delay, int64_t length, int64_t alphabet) {
  require_copy(batch, delay, length, alphabet);
  const int64_t T = delay + 2 * length, F = alphabet + 2, blank = 0, delimiter = alphabet + 1;
  std::vector<double> x(size_t(batch * T * F), 0.0);
  Batch out;
  out.labels.assign(size_t(batch * T), blank);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      int64_t symbol = blank;
      if (t < length) {
        symbol = 1 + int64_t(rng.below(uint64_t(alphabet)));
        out.labels[size_t(b * T + T - length + t)] = symbol;  // to be recalled in the last `length` steps
      } else if (t == length + delay - 1) {
        symbol = delimiter;
      }
      x[size_t((b * T + t) * F + symbol)] = 1.0;
    }
  }
  out.x = Tensor::from({batch, T, F}, x);
  return out;
}

double copy_baseline_loss(int64_t delay, int64_t length, int64_t alphabet) {
  require_copy(1, delay, length, alphabet);
  return double(length) * std::log(double(alphabet)) / double(delay + 2 * length);
}

}  // namespace seqgrad::tasks
