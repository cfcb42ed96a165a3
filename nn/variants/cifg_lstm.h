// Coupled input-forget gate LSTM (CIFG; Greff et al. 2017, "LSTM: A Search Space Odyssey"): the
// input gate is tied to the forget gate, i = 1 − f, so only 3 gate blocks remain (f, g, o):
//   [f g o] = x·W_ihᵀ + h·W_hhᵀ + b
//   c_t = σ(f) ⊙ c_{t−1} + (1 − σ(f)) ⊙ tanh(g),  h_t = σ(o) ⊙ tanh(c_t)
#pragma once

#include "nn/cell.h"

namespace seqgrad::nn {

class CifgLstm : public Cell {
 public:
  CifgLstm(int64_t input_size, int64_t hidden_size, Rng& rng) : Cell(input_size, hidden_size) {
    add_gate_weights(3, rng, weight_ih, weight_hh, bias);  // U(±1/√H), like Lstm
  }
  State step(const Var& x, const State& s) override {
    check_input(x, s, "CifgLstm");
    Tape& tape = x.tape();
    auto [f, g, o] = chunk<3>(affine(x, weight_ih.var(tape), s.h, weight_hh.var(tape), bias.var(tape)), 1);
    Var forget = sigmoid(f), cand = tanh(g);
    Var c = cand + forget * (s.c - cand);  // = σ(f) ⊙ c_{t−1} + (1 − σ(f)) ⊙ tanh(g)
    return {sigmoid(o) * tanh(c), c};
  }
  bool has_cell_state() const override { return true; }

  Parameter weight_ih, weight_hh, bias;  // (3H, I), (3H, H), (3H)
};

}  // namespace seqgrad::nn
