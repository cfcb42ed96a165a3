// GRU cell in two forms: Cho et al. 2014 (reset before the recurrent product) and the
// reset-after form of PyTorch/cuDNN (reset applied to h·W_hnᵀ + b_hn).
#include <cmath>

#include "nn/cells.h"

namespace seqgrad::nn {

// U(±1/√H) for every parameter, like PyTorch. bias_hn exists (and is registered) only in the
// reset-after form; importing PyTorch's nn.GRU: bias = b_ih + b_hh for the r and z blocks,
// bias's n block = b_in, bias_hn = b_hn.
Gru::Gru(int64_t input_size, int64_t hidden_size, Rng& rng, GruForm form) : Cell(input_size, hidden_size), form_(form) {
  add_gate_weights(3, rng, weight_ih, weight_hh, bias);
  if (form == GruForm::reset_after) {
    const double a = 1.0 / std::sqrt(double(hidden_size));
    bias_hn.value = Tensor::uniform({hidden_size}, rng, -a, a);
    register_parameter("bias_hn", bias_hn);
  }
}

// r, z = σ(x·W_{ir,iz}ᵀ + h·W_{hr,hz}ᵀ + b_{r,z});  h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
//   cho:         n = tanh(x·W_inᵀ + (r ⊙ h)·W_hnᵀ + b_n)
//   reset_after: n = tanh(x·W_inᵀ + b_n + r ⊙ (h·W_hnᵀ + b_hn))
State Gru::step(const Var& x, const State& s) {
  check_input(x, s, "Gru");
  Tape& tape = x.tape();
  const int64_t H = hidden_size();
  Var W = weight_ih.var(tape), U = weight_hh.var(tape), b = bias.var(tape);
  Var r, z, n;
  if (form_ == GruForm::cho) {
    // The candidate needs r before its recurrent product, so the r,z rows and the n rows of the
    // weights go through two affines (slices are differentiable views into the parameters).
    Var rz = sigmoid(affine(x, slice(W, 0, 0, 2 * H), s.h, slice(U, 0, 0, 2 * H), slice(b, 0, 0, 2 * H)));  // (B, 2H)
    r = slice(rz, 1, 0, H);
    z = slice(rz, 1, H, 2 * H);
    n = tanh(affine(x, slice(W, 0, 2 * H, 3 * H), r * s.h, slice(U, 0, 2 * H, 3 * H), slice(b, 0, 2 * H, 3 * H)));
  } else {
    // Two whole-matrix affines, no weight slicing: gi = x·W_ihᵀ + b, gh = h·W_hhᵀ (each (B, 3H)).
    auto [xr, xz, xn] = chunk<3>(affine(x, W, b), 1);
    auto [hr, hz, hn] = chunk<3>(affine(s.h, U, Var()), 1);
    r = sigmoid(xr + hr);
    z = sigmoid(xz + hz);
    n = tanh(xn + r * (hn + bias_hn.var(tape)));
  }
  return {n + z * (s.h - n), Var()};  // = (1 − z) ⊙ n + z ⊙ h_{t−1}
}

}  // namespace seqgrad::nn
