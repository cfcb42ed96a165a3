// The workload of the data-parallel example and tests: the adding problem (Hochreiter & Schmidhuber
// 1997; each step carries (value in U[0, 1), marker), two steps are marked, the target is the sum of
// the two marked values) and a one-layer LSTM with a linear head regressing it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/cells.h"
#include "nn/layers.h"
#include "nn/recurrent.h"

namespace seqgrad::dist::example {

struct AddingBatch {
  Tensor x;       // (B, T, 2)
  Tensor target;  // (B, 1)
};

// One batch of the adding problem drawn from rng; the first marked step is in the first half.
inline AddingBatch adding_batch(Rng& rng, int64_t batch, int64_t steps) {
  if (batch <= 0 || steps < 2)
    throw std::invalid_argument("adding_batch: needs batch >= 1 and steps >= 2, got " + std::to_string(batch) +
                                " and " + std::to_string(steps));
  std::vector<double> x(size_t(batch * steps * 2)), sums(size_t(batch), 0.0);
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
  }
  return {Tensor::from({batch, steps, 2}, x), Tensor::from({batch, 1}, sums)};
}

// LSTM(2 -> hidden) then Linear(hidden -> 1) on the final h. Parameters "rnn.l0.*", "head.*".
class AddingModel : public nn::Module {
 public:
  AddingModel(int64_t hidden, Rng& rng) : rnn(nn::cell_factory<nn::Lstm>(), 2, hidden, rng), head(hidden, 1, rng) {
    register_module("rnn", rnn);
    register_module("head", head);
  }
  // MSE of the prediction on `batch`, recorded on `tape` (rng: dropout masks; none here).
  Var loss(Tape& tape, const AddingBatch& batch, Rng& rng) {
    return mse(head(rnn(tape.constant(batch.x), rng).final[0].h), tape.constant(batch.target));
  }

  nn::Recurrent rnn;
  nn::Linear head;
};

}  // namespace seqgrad::dist::example
