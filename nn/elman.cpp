// Elman RNN cell.
#include "nn/cells.h"

namespace seqgrad::nn {

// U(±1/√H) for every parameter, like PyTorch.
Elman::Elman(int64_t input_size, int64_t hidden_size, Rng& rng, Activation activation)
    : Cell(input_size, hidden_size), activation_(activation) {
  add_gate_weights(1, rng, weight_ih, weight_hh, bias);
}

// h_t = act(x_t·W_ihᵀ + h_{t−1}·W_hhᵀ + b)
State Elman::step(const Var& x, const State& s) {
  check_input(x, s, "Elman");
  Tape& tape = x.tape();
  Var z = affine(x, weight_ih.var(tape), s.h, weight_hh.var(tape), bias.var(tape));  // (B, H)
  return {activation_ == Activation::tanh ? tanh(z) : relu(z), Var()};
}

}  // namespace seqgrad::nn
