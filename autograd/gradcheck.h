// Finite-difference gradient checking in float64: central differences over every element of
// every input, compared with the tape's reverse-mode gradients.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "autograd/tape.h"

namespace seqgrad {

struct GradcheckOptions {
  double eps = 1e-6;   // central-difference step
  double atol = 1e-8;  // an element passes when |analytic − numeric| <= atol + rtol·|numeric|
  double rtol = 1e-6;
  uint64_t seed = 1234;  // for the random projection of a non-scalar output to a scalar
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;  // worst |analytic − numeric|
  double max_rel_error = 0;  // worst |analytic − numeric| / max(|analytic|, |numeric|, 1e-12)
  // The worst element (by tolerance ratio): which input, flat index, and both values.
  int input = -1;
  int64_t element = -1;
  double analytic = 0, numeric = 0;
  int64_t checked = 0;  // elements compared
  std::string str() const;
};

// f maps Vars (float64 leaves holding `inputs`, on a fresh tape) to an output Var. A non-scalar
// output y is reduced to Σ y ⊙ R with a fixed random R, so every output element is exercised.
// f must be deterministic (reseed any Rng it uses inside f).
using GradcheckFn = std::function<Var(std::span<const Var> inputs)>;
GradcheckResult gradcheck(const GradcheckFn& f, std::span<const Tensor> inputs, const GradcheckOptions& options = {});
inline GradcheckResult gradcheck(const GradcheckFn& f, std::initializer_list<Tensor> inputs,
                                 const GradcheckOptions& options = {}) {
  return gradcheck(f, std::span<const Tensor>(inputs.begin(), inputs.size()), options);
}

}  // namespace seqgrad
