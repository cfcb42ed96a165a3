// gradcheck_module and gradcheck_cell: gradcheck's float64 leaves stand in for the parameters via
// Parameter::use, so every use of a parameter inside the module feeds that leaf's gradient.
#include "nn/gradcheck_cell.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/parameter_restore.h"

namespace seqgrad::nn {

using detail::ParameterRestore;

GradcheckResult gradcheck_module(Module& module, std::span<const Tensor> inputs, const GradcheckFn& f,
                                 const GradcheckOptions& options) {
  ParameterRestore restore(module);
  module.to(DType::f64);
  const std::vector<Parameter*> params = module.parameters();
  std::vector<Tensor> all;
  for (Parameter* p : params) all.push_back(p->value);
  all.insert(all.end(), inputs.begin(), inputs.end());
  auto with_params = [&](std::span<const Var> v) {
    for (size_t k = 0; k < params.size(); ++k) params[k]->use(v[k]);
    return f(v.subspan(params.size()));
  };
  return gradcheck(with_params, all, options);
}

namespace {

// The parameters of `module` named in `names`, in that order; throws on an unknown or repeated name.
std::vector<Parameter*> select_parameters(Module& module, std::span<const std::string> names) {
  if (names.empty()) throw std::invalid_argument("gradcheck_module: no parameters selected");
  const auto named = module.named_parameters();
  std::vector<Parameter*> selected;
  for (const std::string& name : names) {
    auto it = std::find_if(named.begin(), named.end(), [&](const auto& np) { return np.first == name; });
    if (it == named.end()) {
      std::string valid;
      for (const auto& np : named) valid += (valid.empty() ? "" : ", ") + np.first;
      throw std::invalid_argument("gradcheck_module: no parameter named '" + name +
                                  "'; valid names: " + (valid.empty() ? "(the module has no parameters)" : valid));
    }
    if (std::find(selected.begin(), selected.end(), it->second) != selected.end())
      throw std::invalid_argument("gradcheck_module: parameter '" + name + "' selected twice");
    selected.push_back(it->second);
  }
  return selected;
}

}  // namespace

GradcheckResult gradcheck_module(Module& module, const ModuleFn& f, std::span<const std::string> parameters,
                                 const GradcheckOptions& options) {
  const std::vector<Parameter*> selected = select_parameters(module, parameters);
  ParameterRestore restore(module);
  module.to(DType::f64);
  std::vector<Tensor> values;  // gradcheck's leaves: the selected parameters' float64 values
  for (Parameter* p : selected) values.push_back(p->value);
  auto with_params = [&](std::span<const Var> v) {
    Tape& tape = v[0].tape();
    for (Parameter* p : module.parameters()) {
      auto it = std::find(selected.begin(), selected.end(), p);
      p->use(it == selected.end() ? tape.constant(p->value) : v[size_t(it - selected.begin())]);
    }
    return f(tape);
  };
  return gradcheck(with_params, values, options);
}

GradcheckResult gradcheck_cell(Cell& cell, int64_t batch, int64_t steps, uint64_t seed,
                               const GradcheckOptions& options) {
  if (batch <= 0 || steps <= 0)
    throw std::invalid_argument("gradcheck_cell: batch and steps must be positive, got " + std::to_string(batch) +
                                " and " + std::to_string(steps));
  const int64_t I = cell.input_size(), H = cell.hidden_size();
  const size_t T = size_t(steps);
  const bool has_c = cell.has_cell_state();
  Rng rng(seed);
  std::vector<Tensor> inputs;  // x_0 … x_{T−1}, h_0 [, c_0]
  for (size_t t = 0; t < T; ++t) inputs.push_back(Tensor::normal({batch, I}, rng, 0.0, 1.0, DType::f64));
  inputs.push_back(Tensor::normal({batch, H}, rng, 0.0, 1.0, DType::f64));
  if (has_c) inputs.push_back(Tensor::normal({batch, H}, rng, 0.0, 1.0, DType::f64));
  std::vector<Tensor> projections;  // R_t: (batch, H)
  for (size_t t = 0; t < T; ++t) projections.push_back(Tensor::uniform({batch, H}, rng, 0.5, 1.5, DType::f64));

  auto unrolled = [&](std::span<const Var> v) {
    Tape& tape = v[0].tape();
    State s{v[T], has_c ? v[T + 1] : Var()};
    Var loss;
    for (size_t t = 0; t < T; ++t) {
      s = cell.checked_step(v[t], s, "gradcheck_cell");
      Var term = sum(s.h * tape.constant(projections[t]));
      loss = loss.defined() ? loss + term : term;
    }
    return loss;
  };
  return gradcheck_module(cell, inputs, unrolled, options);
}

}  // namespace seqgrad::nn
