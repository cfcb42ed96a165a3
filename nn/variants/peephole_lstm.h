// Peephole LSTM (Gers & Schmidhuber 2000, "Recurrent nets that time and count"): i and f see
// c_{t−1}, o sees c_t, through diagonal peephole weights p_i, p_f, p_o (H):
//   [i f g o] = x·W_ihᵀ + h·W_hhᵀ + b
//   c_t = σ(f + p_f ⊙ c_{t−1}) ⊙ c_{t−1} + σ(i + p_i ⊙ c_{t−1}) ⊙ tanh(g),  h_t = σ(o + p_o ⊙ c_t) ⊙ tanh(c_t)
#pragma once

#include <cmath>

#include "nn/cell.h"

namespace seqgrad::nn {

class PeepholeLstm : public Cell {
 public:
  PeepholeLstm(int64_t input_size, int64_t hidden_size, Rng& rng) : Cell(input_size, hidden_size) {
    add_gate_weights(4, rng, weight_ih, weight_hh, bias);  // U(±1/√H) for everything, like Lstm
    const double a = 1.0 / std::sqrt(double(hidden_size));
    for (Parameter* p : {&peephole_i, &peephole_f, &peephole_o}) p->value = Tensor::uniform({hidden_size}, rng, -a, a);
    register_parameter("peephole_i", peephole_i);
    register_parameter("peephole_f", peephole_f), register_parameter("peephole_o", peephole_o);
  }
  State step(const Var& x, const State& s) override {
    check_input(x, s, "PeepholeLstm");
    Tape& tape = x.tape();
    auto [i, f, g, o] = chunk<4>(affine(x, weight_ih.var(tape), s.h, weight_hh.var(tape), bias.var(tape)), 1);
    Var c = sigmoid(f + peephole_f.var(tape) * s.c) * s.c + sigmoid(i + peephole_i.var(tape) * s.c) * tanh(g);
    return {sigmoid(o + peephole_o.var(tape) * c) * tanh(c), c};
  }
  bool has_cell_state() const override { return true; }

  Parameter weight_ih, weight_hh, bias;          // (4H, I), (4H, H), (4H)
  Parameter peephole_i, peephole_f, peephole_o;  // (H) each
};

}  // namespace seqgrad::nn
