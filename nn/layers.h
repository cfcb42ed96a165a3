// Feed-forward layers: Linear, Embedding, Dropout, LayerNorm.
#pragma once

#include <span>

#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/module.h"

namespace seqgrad::nn {

// y = x·Wᵀ + b; W: (out, in), b: (out). Initialised U(±1/√in) like PyTorch.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Rng& rng, bool bias = true);
  Var operator()(const Var& x);  // x: (B, in) -> (B, out); also (B, T, in) -> (B, T, out)

  Parameter weight, bias;  // bias undefined when constructed without one
};

// Rows of a (vocab, dim) table looked up by integer ids. Initialised N(0, 1) like PyTorch.
class Embedding : public Module {
 public:
  Embedding(int64_t vocab_size, int64_t dim, Rng& rng);
  // ids laid out row-major in `ids_shape` (e.g. (B, T)) -> ids_shape + (dim); ids out of range throw.
  Var operator()(Tape& tape, std::span<const int64_t> ids, const Shape& ids_shape);

  Parameter weight;
};

// Inverted dropout while training, identity in eval mode. The mask comes from the caller's Rng,
// so the training loop decides (and checkpoints) where randomness comes from.
class Dropout : public Module {
 public:
  explicit Dropout(double p);
  Var operator()(const Var& x, Rng& rng);
  double p() const { return p_; }

 private:
  double p_;
};

// Normalises the last axis to zero mean and unit variance, then scales and shifts:
// y = (x − μ) / √(σ² + eps) ⊙ γ + β (Ba et al. 2016). A composite of ops.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t features, double eps = 1e-5);
  Var operator()(const Var& x);

  Parameter gain, shift;  // γ = 1, β = 0 initially

 private:
  double eps_;
};

}  // namespace seqgrad::nn
