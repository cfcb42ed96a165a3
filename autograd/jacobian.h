// Full Jacobians by reverse mode, and the singular values of a matrix (one-sided Jacobi in double,
// no LAPACK): the instruments behind per-step analyses of recurrent networks (nn/jacobian_probe.h).
#pragma once

#include <functional>
#include <initializer_list>
#include <span>
#include <vector>

#include "autograd/tape.h"

namespace seqgrad {

struct JacobianResult {
  Tensor value;  // f's output y, as f computed it (its own shape and dtype)
  // [k]: ∂y/∂inputs[k] as a float64 matrix (numel(y), numel(inputs[k])): element (i, j) is
  // ∂y_i/∂x_j with y and x flattened row-major. Zeros where y does not depend on the input.
  std::vector<Tensor> jacobians;
};

// f maps Vars (leaves holding `inputs`, in their own dtypes, on a fresh tape) to an output Var.
// One forward, then one backward pass per element of y, seeded with the unit vector e_i, through
// the retained graph (numel(y) passes; the tape has no vector-valued seeds to batch them). Every
// Parameter f binds with Parameter::var is a leaf of that tape too and accumulates the gradient of
// every pass; hand it to f as an input (Parameter::use) or zero it afterwards.
using JacobianFn = std::function<Var(std::span<const Var> inputs)>;
JacobianResult jacobian(const JacobianFn& f, std::span<const Tensor> inputs);
inline JacobianResult jacobian(const JacobianFn& f, std::initializer_list<Tensor> inputs) {
  return jacobian(f, std::span<const Tensor>(inputs.begin(), inputs.size()));
}

// The singular values of a (m, n) matrix of any dtype, computed in double, in descending order;
// min(m, n) of them. One-sided Jacobi (Hestenes): plane rotations orthogonalise the columns until
// every pair is orthogonal to working precision; the column norms are then the singular values.
// Sequential, so the same matrix gives the same bits on any thread count. O(m·n²) per sweep and
// typically 6–10 sweeps: meant for matrices up to a few hundred rows. Throws on a non-finite entry.
std::vector<double> singular_values(const Tensor& matrix);

}  // namespace seqgrad
