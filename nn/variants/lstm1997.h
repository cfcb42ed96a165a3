// The original LSTM (Hochreiter & Schmidhuber 1997): input and output gates, NO forget gate, so the
// cell state is a constant error carousel that only adds; the squashing functions of the paper,
// g ∈ [−2, 2] on the cell input and h ∈ [−1, 1] on the cell output:
//   [i g o] = x·W_ihᵀ + h·W_hhᵀ + b
//   c_t = c_{t−1} + σ(i) ⊙ (4σ(g) − 2),  h_t = σ(o) ⊙ (2σ(c_t) − 1)
// Weights U(±1/√H) like Lstm; the output gate's bias is shifted by `output_bias` (the paper starts
// output gates negative, so memory cells are not used before they hold something; default −1).
// Blocks i, g, o: weight_ih (3H, I), weight_hh (3H, H), bias (3H); 3·(H·(H + I) + H) parameters.
// Not reproduced: the paper's truncated gradient (errors leaving a memory cell through its gates
// and input are cut); here gradients flow everywhere, as in every later LSTM.
#pragma once

#include "nn/cell.h"

namespace seqgrad::nn {

class Lstm1997 : public Cell {
 public:
  Lstm1997(int64_t input_size, int64_t hidden_size, Rng& rng, double output_bias = -1.0)
      : Cell(input_size, hidden_size) {
    add_gate_weights(3, rng, weight_ih, weight_hh, bias);
    for (int64_t j = 2 * hidden_size; j < 3 * hidden_size; ++j) bias.value.set({j}, bias.value.at({j}) + output_bias);
  }
  State step(const Var& x, const State& s) override {
    check_input(x, s, "Lstm1997");
    Tape& tape = x.tape();
    auto [i, g, o] = chunk<3>(affine(x, weight_ih.var(tape), s.h, weight_hh.var(tape), bias.var(tape)), 1);
    Var c = s.c + sigmoid(i) * (4.0 * sigmoid(g) - 2.0);  // (B, H): the carousel only adds
    return {sigmoid(o) * (2.0 * sigmoid(c) - 1.0), c};
  }
  bool has_cell_state() const override { return true; }

  Parameter weight_ih, weight_hh, bias;  // (3H, I), (3H, H), (3H)
};

}  // namespace seqgrad::nn
