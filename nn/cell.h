// The recurrent cell interface. A cell is a Module with one step function, written as ordinary
// expressions of Vars; every wrapper (unroll, stacking, bidirectional, masking, dropout, truncated
// BPTT, gradient instrumentation) works with any Cell.
#pragma once

#include <string>

#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/module.h"

namespace seqgrad::nn {

// The recurrent state: h, the output, and c, the cell state of LSTM-family cells (undefined for
// cells without one).
struct State {
  Var h;
  Var c;
};

class Cell : public Module {
 public:
  Cell(int64_t input_size, int64_t hidden_size);

  // One step: x (B, I) and the previous state -> the new state, h (B, H).
  virtual State step(const Var& x, const State& state) = 0;
  // Whether the state carries c (LSTM family). Override it to return true when step reads or
  // returns state.c: the wrappers then create, carry and check c.
  virtual bool has_cell_state() const { return false; }
  // The cell's name in error messages: its class name without namespaces ("Lstm"). Override to
  // choose another.
  virtual std::string type_name() const;
  // step(x, state) as the wrappers (unroll, gradcheck_cell) call it, x (B, I): throws an error
  // starting "<caller>: cell '<type_name>'" when the step returns an h that is not (B, H), a c that
  // disagrees with has_cell_state(), or reads state.c although has_cell_state() is false.
  State checked_step(const Var& x, const State& state, const char* caller);
  // Zeros for h (and c): (batch, H) in the parameters' dtype, as constants of `tape`.
  State zero_state(Tape& tape, int64_t batch) const;

  int64_t input_size() const { return input_size_; }
  int64_t hidden_size() const { return hidden_size_; }
  DType dtype() const { return dtype_; }
  void to(DType dtype) override {
    Module::to(dtype);
    dtype_ = dtype;
  }

 protected:
  // The usual weights of a cell whose pre-activations x·W_ihᵀ + h·W_hhᵀ + b hold `gates` blocks of
  // H units: weight_ih (G·H, I), weight_hh (G·H, H), bias (G·H), drawn in that order from
  // U(±1/√H) like PyTorch and registered as "weight_ih", "weight_hh", "bias".
  void add_gate_weights(int64_t gates, Rng& rng, Parameter& weight_ih, Parameter& weight_hh, Parameter& bias);
  // For a step called directly, outside the wrappers (which check for every cell): throws
  // "<cell>: input (B, I') but the cell expects (B, I)" (or names the bad state h or c).
  void check_input(const Var& x, const State& state, const char* cell) const;

 private:
  int64_t input_size_, hidden_size_;
  DType dtype_ = DType::f32;
};

}  // namespace seqgrad::nn
