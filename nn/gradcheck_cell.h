// One-line gradient checks of modules and cells in float64, over parameters AND inputs:
//   gradcheck_cell(cell, batch, steps)      — a cell unrolled over random inputs and initial state;
//   gradcheck_module(module, inputs, f)     — any scalar function of a module and some inputs.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "autograd/gradcheck.h"
#include "nn/cell.h"

namespace seqgrad::nn {

// Gradchecks f(inputs) (a Var; non-scalar outputs are randomly projected) with respect to every
// parameter of `module` (named_parameters() order) and then every tensor of `inputs`; that is the
// index GradcheckResult::input reports. The module runs in float64 with gradcheck's leaves as its
// parameters (Parameter::use); its values, gradients and dtype are restored afterwards, also when
// an exception is thrown.
GradcheckResult gradcheck_module(Module& module, std::span<const Tensor> inputs, const GradcheckFn& f,
                                 const GradcheckOptions& options = {});
inline GradcheckResult gradcheck_module(Module& module, std::initializer_list<Tensor> inputs, const GradcheckFn& f,
                                        const GradcheckOptions& options = {}) {
  return gradcheck_module(module, std::span<const Tensor>(inputs.begin(), inputs.size()), f, options);
}

// Loss = Σ_t Σ h_t ⊙ R_t with fixed random R_t. Gradcheck inputs, in order: the parameters,
// x_0 … x_{T−1} (each (batch, I)), h_0, then c_0 when the cell has a cell state, all N(0, 1)
// from `seed`; parameters keep the cell's own values.
GradcheckResult gradcheck_cell(Cell& cell, int64_t batch, int64_t steps, uint64_t seed = 1,
                               const GradcheckOptions& options = {});

}  // namespace seqgrad::nn
