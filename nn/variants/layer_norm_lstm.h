// Layer-normalised LSTM (Ba, Kiros & Hinton 2016, "Layer Normalization", eq. 20–22): LayerNorm on
// the two gate pre-activations separately and on c_t before the output tanh:
//   [i f g o] = LN_ih(x·W_ihᵀ) + LN_hh(h·W_hhᵀ) + b
//   c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g),  h_t = σ(o) ⊙ tanh(LN_c(c_t))   (c_t is carried unnormalised)
#pragma once

#include "nn/cell.h"
#include "nn/layers.h"

namespace seqgrad::nn {

class LayerNormLstm : public Cell {
 public:
  LayerNormLstm(int64_t input_size, int64_t hidden_size, Rng& rng)
      : Cell(input_size, hidden_size), ln_ih(4 * hidden_size), ln_hh(4 * hidden_size), ln_c(hidden_size) {
    add_gate_weights(4, rng, weight_ih, weight_hh, bias);  // U(±1/√H), like Lstm; LayerNorms: γ = 1, β = 0
    register_module("ln_ih", ln_ih), register_module("ln_hh", ln_hh), register_module("ln_c", ln_c);
  }
  State step(const Var& x, const State& s) override {
    check_input(x, s, "LayerNormLstm");
    Tape& tape = x.tape();
    Var z =
        ln_ih(affine(x, weight_ih.var(tape), Var())) + ln_hh(affine(s.h, weight_hh.var(tape), Var())) + bias.var(tape);
    auto [i, f, g, o] = chunk<4>(z, 1);
    Var c = sigmoid(f) * s.c + sigmoid(i) * tanh(g);
    return {sigmoid(o) * tanh(ln_c(c)), c};
  }
  bool has_cell_state() const override { return true; }

  Parameter weight_ih, weight_hh, bias;  // (4H, I), (4H, H), (4H)
  LayerNorm ln_ih, ln_hh, ln_c;          // over 4H, 4H and H features
};

}  // namespace seqgrad::nn
