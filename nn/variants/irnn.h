// IRNN (Le, Jaitly & Hinton 2015, "A Simple Way to Initialize Recurrent Networks of Rectified
// Linear Units"): an Elman cell with relu whose recurrent weights start as the identity, input
// weights N(0, 0.001²) and bias 0.   h_t = relu(x·W_ihᵀ + h_{t−1}·W_hhᵀ + b)
#pragma once

#include "nn/cell.h"
#include "nn/init.h"

namespace seqgrad::nn {

class Irnn : public Cell {
 public:
  Irnn(int64_t input_size, int64_t hidden_size, Rng& rng, double input_stddev = 1e-3) : Cell(input_size, hidden_size) {
    weight_ih.value = Tensor::zeros({hidden_size, input_size});
    weight_hh.value = Tensor::zeros({hidden_size, hidden_size});
    bias.value = Tensor::zeros({hidden_size});
    init::normal(weight_ih.value, rng, 0.0, input_stddev);
    init::identity(weight_hh.value);
    register_parameter("weight_ih", weight_ih), register_parameter("weight_hh", weight_hh);
    register_parameter("bias", bias);
  }
  State step(const Var& x, const State& s) override {
    check_input(x, s, "Irnn");
    Tape& tape = x.tape();
    return {relu(affine(x, weight_ih.var(tape), s.h, weight_hh.var(tape), bias.var(tape))), Var()};
  }

  Parameter weight_ih, weight_hh, bias;  // (H, I), (H, H), (H)
};

}  // namespace seqgrad::nn
