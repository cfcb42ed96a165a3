// The model of the data-parallel example and tests: a one-layer LSTM with a linear head regressing
// the adding problem (tasks::adding_problem).
#pragma once

#include <cstdint>

#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/cells.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "tasks/tasks.h"

namespace seqgrad::dist::example {

// LSTM(2 -> hidden) then Linear(hidden -> 1) on the final h. Parameters "rnn.l0.*", "head.*".
class AddingModel : public nn::Module {
 public:
  AddingModel(int64_t hidden, Rng& rng) : rnn(nn::cell_factory<nn::Lstm>(), 2, hidden, rng), head(hidden, 1, rng) {
    register_module("rnn", rnn);
    register_module("head", head);
  }
  // MSE of the prediction on `batch`, recorded on `tape` (rng: dropout masks; none here).
  Var loss(Tape& tape, const tasks::Batch& batch, Rng& rng) {
    return mse(head(rnn(tape.constant(batch.x), rng).final[0].h), tape.constant(batch.target));
  }

  nn::Recurrent rnn;
  nn::Linear head;
};

}  // namespace seqgrad::dist::example
