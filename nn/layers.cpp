// Linear, Embedding, Dropout and LayerNorm, written with autograd ops only.
#include "nn/layers.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "nn/init.h"

namespace seqgrad::nn {

static void require_positive(int64_t v, const char* what, const char* layer) {
  if (v <= 0)
    throw std::invalid_argument(std::string(layer) + ": " + what + " must be positive, got " + std::to_string(v));
}

Linear::Linear(int64_t in_features, int64_t out_features, Rng& rng, bool has_bias) {
  require_positive(in_features, "in_features", "Linear");
  require_positive(out_features, "out_features", "Linear");
  const double bound = 1.0 / std::sqrt(double(in_features));
  weight.value = Tensor::uniform({out_features, in_features}, rng, -bound, bound);
  register_parameter("weight", weight);
  if (has_bias) {
    bias.value = Tensor::uniform({out_features}, rng, -bound, bound);
    register_parameter("bias", bias);
  }
}

// (B, in) -> (B, out); a (B, T, in) input is flattened to (B·T, in) and back.
Var Linear::operator()(const Var& x) {
  Tape& tape = x.tape();
  Var b = bias.value.defined() ? bias.var(tape) : Var();
  if (x.rank() == 3) {
    const int64_t B = x.size(0), T = x.size(1);
    return reshape(affine(reshape(x, {B * T, x.size(2)}), weight.var(tape), b), {B, T, -1});
  }
  return affine(x, weight.var(tape), b);
}

Embedding::Embedding(int64_t vocab_size, int64_t dim, Rng& rng) {
  require_positive(vocab_size, "vocab_size", "Embedding");
  require_positive(dim, "dim", "Embedding");
  weight.value = Tensor::normal({vocab_size, dim}, rng);
  register_parameter("weight", weight);
}

Var Embedding::operator()(Tape& tape, std::span<const int64_t> ids, const Shape& ids_shape) {
  if (int64_t(ids.size()) != ids_shape.numel())
    throw std::invalid_argument("Embedding: " + std::to_string(ids.size()) + " ids for shape " + ids_shape.str());
  Var rows = index_select(weight.var(tape), 0, ids);  // (n, dim)
  Shape out = ids_shape;
  out.push_back(weight.value.shape()[1]);
  return reshape(rows, out.dims());
}

Dropout::Dropout(double p) : p_(p) {
  if (!(p >= 0 && p < 1)) throw std::invalid_argument("Dropout: p must be in [0, 1), got " + std::to_string(p));
}

Var Dropout::operator()(const Var& x, Rng& rng) { return dropout(x, p_, rng, training()); }

LayerNorm::LayerNorm(int64_t features, double eps) : eps_(eps) {
  require_positive(features, "features", "LayerNorm");
  if (!(eps > 0)) throw std::invalid_argument("LayerNorm: eps must be positive, got " + std::to_string(eps));
  gain.value = Tensor::ones({features});
  shift.value = Tensor::zeros({features});
  register_parameter("weight", gain);
  register_parameter("bias", shift);
}

// y = (x − μ) / √(σ² + eps) ⊙ γ + β over the last axis
Var LayerNorm::operator()(const Var& x) {
  if (x.rank() == 0 || x.size(-1) != gain.value.numel())
    throw std::invalid_argument("LayerNorm: input " + x.shape().str() + " but the layer normalises " +
                                std::to_string(gain.value.numel()) + " features");
  Var centered = x - mean(x, -1, /*keepdim=*/true);
  Var variance = mean(centered * centered, -1, /*keepdim=*/true);
  Tape& tape = x.tape();
  return centered / sqrt(variance + eps_) * gain.var(tape) + shift.var(tape);
}

}  // namespace seqgrad::nn
