// The adding problem, both versions (see tasks.h).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "tasks/checks.h"
#include "tasks/tasks.h"

namespace seqgrad::tasks {

Batch adding_problem(Rng& rng, int64_t batch, int64_t steps) {
  require_batch("adding_problem", batch, steps, 2);
  std::vector<double> x(size_t(batch * steps * 2)), sums(size_t(batch), 0.0);
  Batch out;
  const int64_t half = steps / 2;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t first = int64_t(rng.below(uint64_t(half))),
                  second = half + int64_t(rng.below(uint64_t(steps - half)));
    for (int64_t t = 0; t < steps; ++t) {
      const double value = rng.uniform(), marked = (t == first || t == second) ? 1.0 : 0.0;
      x[size_t((b * steps + t) * 2)] = value;
      x[size_t((b * steps + t) * 2 + 1)] = marked;
      sums[size_t(b)] += value * marked;
    }
    out.first.push_back(first);
    out.second.push_back(second);
  }
  out.x = Tensor::from({batch, steps, 2}, x);
  out.target = Tensor::from({batch, 1}, sums);
  return out;
}

Batch adding_problem_hs97(Rng& rng, int64_t batch, int64_t T) {
  require_batch("adding_problem_hs97", batch, T, 4);
  const int64_t half = T / 2, early = std::min<int64_t>(10, half);
  std::vector<double> x(size_t(batch * T * 2), 0.0), target(static_cast<size_t>(batch));
  Batch out;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t m1 = uniform_in(rng, 0, early - 1);
    int64_t m2 = uniform_in(rng, 0, half - 2);  // one of the other half − 1 steps of the first half
    if (m2 >= m1) ++m2;
    for (int64_t t = 0; t < T; ++t) x[size_t((b * T + t) * 2)] = rng.uniform(-1.0, 1.0);
    x[size_t((b * T + m1) * 2 + 1)] = x[size_t((b * T + m2) * 2 + 1)] = 1.0;
    target[size_t(b)] = adding_target_hs97(x[size_t((b * T + m1) * 2)], x[size_t((b * T + m2) * 2)]);
    out.first.push_back(std::min(m1, m2));
    out.second.push_back(std::max(m1, m2));
  }
  out.x = Tensor::from({batch, T, 2}, x);
  out.target = Tensor::from({batch, 1}, target);
  return out;
}

double adding_accuracy(const std::vector<double>& prediction, const std::vector<double>& target) {
  if (prediction.size() != target.size() || prediction.empty())
    throw std::invalid_argument("adding_accuracy: " + std::to_string(prediction.size()) + " predictions for " +
                                std::to_string(target.size()) + " targets");
  int64_t correct = 0;
  for (size_t i = 0; i < target.size(); ++i) correct += std::abs(prediction[i] - target[i]) < kAddingTolerance;
  return double(correct) / double(target.size());
}

}  // namespace seqgrad::tasks
