// Cell basics shared by every cell.
#include "nn/cell.h"

#include <stdexcept>
#include <string>

namespace seqgrad::nn {

Cell::Cell(int64_t input_size, int64_t hidden_size) : input_size_(input_size), hidden_size_(hidden_size) {
  if (input_size <= 0 || hidden_size <= 0)
    throw std::invalid_argument("Cell: input_size and hidden_size must be positive, got " + std::to_string(input_size) +
                                " and " + std::to_string(hidden_size));
}

State Cell::zero_state(Tape& tape, int64_t batch) const {
  State s{tape.constant(Tensor::zeros({batch, hidden_size_}, dtype_)), Var()};
  if (has_cell_state()) s.c = tape.constant(Tensor::zeros({batch, hidden_size_}, dtype_));
  return s;
}

void Cell::check_input(const Var& x, const State& state, const char* cell) const {
  const Shape& s = x.shape();
  if (s.rank() != 2 || s[1] != input_size_)
    throw std::invalid_argument(std::string(cell) + ": input " + s.str() + " but the cell expects (B, " +
                                std::to_string(input_size_) + ")");
  if (!state.h.defined() || !(state.h.shape() == Shape{s[0], hidden_size_}))
    throw std::invalid_argument(std::string(cell) + ": state h " +
                                (state.h.defined() ? state.h.shape().str() : "undefined") + " but expected (" +
                                std::to_string(s[0]) + ", " + std::to_string(hidden_size_) + ")");
  if (has_cell_state() && (!state.c.defined() || !(state.c.shape() == state.h.shape())))
    throw std::invalid_argument(std::string(cell) + ": state c missing or not " + state.h.shape().str());
}

}  // namespace seqgrad::nn
