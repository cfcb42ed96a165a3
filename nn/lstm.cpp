// LSTM cell with forget gate (Hochreiter & Schmidhuber 1997; Gers et al. 2000), PyTorch layout.
#include <cmath>
#include <stdexcept>
#include <string>

#include "nn/cells.h"

namespace seqgrad::nn {

// U(±1/√H) for every parameter, like PyTorch; then forget_bias is added to the f block of b
// (Jozefowicz et al. 2015 recommend 1).
Lstm::Lstm(int64_t input_size, int64_t hidden_size, Rng& rng, double forget_bias) : Cell(input_size, hidden_size) {
  add_gate_weights(4, rng, weight_ih, weight_hh, bias);
  const int64_t H = hidden_size;
  if (forget_bias != 0.0)
    for (int64_t j = H; j < 2 * H; ++j) bias.value.set({j}, bias.value.at({j}) + forget_bias);
}

void chrono_init(Lstm& cell, double max_timescale, Rng& rng) {
  if (!(max_timescale > 2.0) || !std::isfinite(max_timescale))
    throw std::invalid_argument("chrono_init: max_timescale must be finite and > 2, got " +
                                std::to_string(max_timescale));
  const int64_t H = cell.hidden_size();
  for (int64_t j = 0; j < H; ++j) {
    const double forget = std::log(rng.uniform(1.0, max_timescale - 1.0));
    cell.bias.value.set({H + j}, forget);  // f block
    cell.bias.value.set({j}, -forget);     // i block
  }
}

// [i f g o] = x_t·W_ihᵀ + h_{t−1}·W_hhᵀ + b
// c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g),  h_t = σ(o) ⊙ tanh(c_t)
State Lstm::step(const Var& x, const State& s) {
  check_input(x, s, "Lstm");
  Tape& tape = x.tape();
  Var z = affine(x, weight_ih.var(tape), s.h, weight_hh.var(tape), bias.var(tape));  // (B, 4H)
  auto [i, f, g, o] = chunk<4>(z, 1);                                                // each (B, H)
  Var c = sigmoid(f) * s.c + sigmoid(i) * tanh(g);
  return {sigmoid(o) * tanh(c), c};
}

}  // namespace seqgrad::nn
