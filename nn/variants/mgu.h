// Minimal gated unit (Zhou, Wu, Zhang & Zhou 2016, "Minimal Gated Unit for Recurrent Neural
// Networks"): one forget gate that also resets the candidate's view of h.
//   f = σ(x·W_fxᵀ + h·W_fhᵀ + b_f),  h̃ = tanh(x·W_hxᵀ + (f ⊙ h)·W_hhᵀ + b_h),  h_t = (1 − f) ⊙ h + f ⊙ h̃
// Blocks in the order f, h̃: weight_ih (2H, I), weight_hh (2H, H), bias (2H); 2·(H·(H + I) + H) parameters.
#pragma once

#include "nn/cell.h"

namespace seqgrad::nn {

class Mgu : public Cell {
 public:
  Mgu(int64_t input_size, int64_t hidden_size, Rng& rng) : Cell(input_size, hidden_size) {
    add_gate_weights(2, rng, weight_ih, weight_hh, bias);  // U(±1/√H), like Gru
  }
  State step(const Var& x, const State& s) override {
    check_input(x, s, "Mgu");
    Tape& tape = x.tape();
    const int64_t H = hidden_size();
    Var U = weight_hh.var(tape);
    auto [xf, xh] = chunk<2>(affine(x, weight_ih.var(tape), bias.var(tape)), 1);  // input parts, (B, H) each
    Var f = sigmoid(xf + affine(s.h, slice(U, 0, 0, H), Var()));
    Var cand = tanh(xh + affine(f * s.h, slice(U, 0, H, 2 * H), Var()));
    return {s.h + f * (cand - s.h), Var()};  // = (1 − f) ⊙ h + f ⊙ h̃
  }

  Parameter weight_ih, weight_hh, bias;  // (2H, I), (2H, H), (2H)
};

}  // namespace seqgrad::nn
