// Initialisers: fill a parameter's value in place from our Rng (so a seed fixes a model
// everywhere). Gains and fans follow the usual definitions (Glorot & Bengio 2010; Saxe et al. 2014
// for orthogonal; Le et al. 2015 for the IRNN identity).
#pragma once

#include "autograd/rng.h"
#include "autograd/tensor.h"

namespace seqgrad::nn::init {

void constant(Tensor& t, double value);
void uniform(Tensor& t, Rng& rng, double lo, double hi);
void normal(Tensor& t, Rng& rng, double mean, double stddev);
// U(−a, a) with a = gain·√(6 / (fan_in + fan_out)); t is (fan_out, fan_in).
void xavier_uniform(Tensor& t, Rng& rng, double gain = 1.0);
// A (rows, cols) matrix with orthonormal rows or columns (QR of a Gaussian matrix), times gain.
void orthogonal(Tensor& t, Rng& rng, double gain = 1.0);
// scale · I for a square matrix (IRNN recurrent weights).
void identity(Tensor& t, double scale = 1.0);

}  // namespace seqgrad::nn::init
