// The standard cells: Elman RNN, LSTM (with forget gate) and GRU, each a step function of a few
// expressions. Weights are stored like PyTorch's (weight_ih (G·H, I), weight_hh (G·H, H)) with ONE
// bias per gate (G·H): PyTorch's two biases sum into ours on import.
#pragma once

#include "autograd/rng.h"
#include "nn/cell.h"

namespace seqgrad::nn {

enum class Activation { tanh, relu };

// h_t = act(x_t·W_ihᵀ + h_{t−1}·W_hhᵀ + b). Parameters: H·I + H·H + H.
class Elman : public Cell {
 public:
  Elman(int64_t input_size, int64_t hidden_size, Rng& rng, Activation activation = Activation::tanh);
  State step(const Var& x, const State& state) override;

  Parameter weight_ih, weight_hh, bias;  // (H, I), (H, H), (H)

 private:
  Activation activation_;
};

// LSTM with forget gate, gates in the order i, f, g, o (as PyTorch):
//   [i f g o] = x_t·W_ihᵀ + h_{t−1}·W_hhᵀ + b
//   c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g),  h_t = σ(o) ⊙ tanh(c_t)
// Parameters: 4·(H·(H + I) + H). forget_bias is added to the f block of b at initialisation.
class Lstm : public Cell {
 public:
  Lstm(int64_t input_size, int64_t hidden_size, Rng& rng, double forget_bias = 0.0);
  State step(const Var& x, const State& state) override;
  bool has_cell_state() const override { return true; }

  Parameter weight_ih, weight_hh, bias;  // (4H, I), (4H, H), (4H)
};

// Chrono initialisation (Tallec & Ollivier 2018, "Can recurrent neural networks warp time?"): the
// forget-gate biases b_f = log(u), u ~ U[1, max_timescale − 1] drawn from rng, and the input-gate
// biases b_i = −b_f, so the cells' memory timescales spread up to max_timescale steps (use the
// longest dependency the task has, e.g. its T). Other parameters are left as they are. Throws
// unless max_timescale > 2.
void chrono_init(Lstm& cell, double max_timescale, Rng& rng);

// GRU, gates in the order r, z, n (as PyTorch), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}, with
//   GruForm::cho:         n = tanh(x·W_inᵀ + (r ⊙ h_{t−1})·W_hnᵀ + b_n)   (Cho et al. 2014)
//   GruForm::reset_after: n = tanh(x·W_inᵀ + b_in + r ⊙ (h_{t−1}·W_hnᵀ + b_hn))   (PyTorch/cuDNN)
// Parameters: 3·(H·(H + I) + H), plus H for b_hn in the reset-after form.
enum class GruForm { cho, reset_after };
class Gru : public Cell {
 public:
  Gru(int64_t input_size, int64_t hidden_size, Rng& rng, GruForm form = GruForm::cho);
  State step(const Var& x, const State& state) override;
  GruForm form() const { return form_; }

  Parameter weight_ih, weight_hh, bias;  // (3H, I), (3H, H), (3H)
  Parameter bias_hn;                     // (H), reset-after form only

 private:
  GruForm form_;
};

}  // namespace seqgrad::nn
