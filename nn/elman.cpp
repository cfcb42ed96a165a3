// Elman RNN cell.
#include <cmath>

#include "nn/cells.h"
#include "nn/init.h"

namespace seqgrad::nn {

// U(±1/√H) for every parameter, like PyTorch.
Elman::Elman(int64_t input_size, int64_t hidden_size, Rng& rng, Activation activation)
    : Cell(input_size, hidden_size), activation_(activation) {
  const double a = 1.0 / std::sqrt(double(hidden_size));
  weight_ih.value = Tensor::uniform({hidden_size, input_size}, rng, -a, a);
  weight_hh.value = Tensor::uniform({hidden_size, hidden_size}, rng, -a, a);
  bias.value = Tensor::uniform({hidden_size}, rng, -a, a);
  register_parameter("weight_ih", weight_ih);
  register_parameter("weight_hh", weight_hh);
  register_parameter("bias", bias);
}

// h_t = act(x_t·W_ihᵀ + h_{t−1}·W_hhᵀ + b)
State Elman::step(const Var& x, const State& s) {
  check_input(x, s, "Elman");
  Tape& tape = x.tape();
  Var z = affine(x, weight_ih.var(tape), s.h, weight_hh.var(tape), bias.var(tape));  // (B, H)
  return {activation_ == Activation::tanh ? tanh(z) : relu(z), Var()};
}

}  // namespace seqgrad::nn
