// One-line gradient checks of modules and cells in float64, over parameters AND inputs:
//   gradcheck_cell(cell, batch, steps)      — a cell unrolled over random inputs and initial state;
//   gradcheck_module(module, inputs, f)     — any scalar function of a module and some inputs;
//   gradcheck_module(module, f, {"l0.weight_hh"}) — a function of a module, over the named parameters only.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

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

// f builds its output on `tape` from the module (running in float64) and any data it enters itself
// (as float64 constants).
using ModuleFn = std::function<Var(Tape& tape)>;
// Gradchecks f with respect to the parameters named in `parameters` only (named_parameters()
// names; GradcheckResult::input indexes this list); every other parameter is held fixed, entered
// as a float64 constant, so no time goes into its finite differences. Values, gradients and dtype
// are restored afterwards as above. Throws naming the function on an empty list, a repeated name,
// or an unknown name (then listing every valid one).
GradcheckResult gradcheck_module(Module& module, const ModuleFn& f, std::span<const std::string> parameters,
                                 const GradcheckOptions& options = {});
inline GradcheckResult gradcheck_module(Module& module, const ModuleFn& f,
                                        std::initializer_list<std::string> parameters,
                                        const GradcheckOptions& options = {}) {
  return gradcheck_module(module, f, std::span<const std::string>(parameters.begin(), parameters.size()), options);
}

// Loss = Σ_t Σ h_t ⊙ R_t with fixed random R_t. Gradcheck inputs, in order: the parameters,
// x_0 … x_{T−1} (each (batch, I)), h_0, then c_0 when the cell has a cell state, all N(0, 1)
// from `seed`; parameters keep the cell's own values.
GradcheckResult gradcheck_cell(Cell& cell, int64_t batch, int64_t steps, uint64_t seed = 1,
                               const GradcheckOptions& options = {});

}  // namespace seqgrad::nn
