// Parameter binding and the Module tree walk.
#include "nn/module.h"

#include <stdexcept>

namespace seqgrad::nn {

Var Parameter::var(Tape& tape) {
  if (!value.defined()) throw std::logic_error("Parameter::var: parameter has no value");
  if (tape_ != &tape || generation_ != tape.generation()) {
    bound_ = tape.bind(value, grad);
    tape_ = &tape;
    generation_ = tape.generation();
  }
  return bound_;
}

void Parameter::use(const Var& v) {
  if (!(v.shape() == value.shape()) || v.dtype() != value.dtype())
    throw std::invalid_argument("Parameter::use: Var " + v.value().describe() + " does not match the parameter " +
                                value.describe());
  tape_ = &v.tape();
  generation_ = v.tape().generation();
  bound_ = v;
}

void Parameter::zero_grad() {
  if (!grad.defined() || !(grad.shape() == value.shape()) || grad.dtype() != value.dtype())
    grad = Tensor::zeros(value.shape(), value.dtype());
  else grad.fill(0.0);  // in place: a tape bound to this parameter keeps sharing the storage
}

void Parameter::to(DType dtype) {
  value = value.to(dtype);
  if (grad.defined()) grad = grad.to(dtype);
  tape_ = nullptr;
}

static void check_name(const std::string& name, const char* what) {
  if (name.empty() || name.find('.') != std::string::npos)
    throw std::invalid_argument(std::string("Module: ") + what + " name '" + name +
                                "' must be non-empty and contain no '.'");
}

Parameter& Module::register_parameter(std::string name, Parameter& p) {
  check_name(name, "parameter");
  for (auto& [n, _] : params_)
    if (n == name) throw std::invalid_argument("Module: parameter '" + name + "' registered twice");
  params_.emplace_back(std::move(name), &p);
  return p;
}

void Module::add_child(std::string name, Module& child) {
  check_name(name, "submodule");
  for (auto& [n, _] : children_)
    if (n == name) throw std::invalid_argument("Module: submodule '" + name + "' registered twice");
  children_.emplace_back(std::move(name), &child);
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Parameter*>>& out) {
  for (auto& [name, p] : params_) out.emplace_back(prefix + name, p);
  for (auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Parameter*>> Module::named_parameters() {
  std::vector<std::pair<std::string, Parameter*>> out;
  collect("", out);
  return out;
}

std::vector<Parameter*> Module::parameters() {
  std::vector<Parameter*> out;
  for (auto& [_, p] : named_parameters()) out.push_back(p);
  return out;
}

int64_t Module::num_parameters() {
  int64_t n = 0;
  for (Parameter* p : parameters()) n += p->value.numel();
  return n;
}

void Module::zero_grad() {
  for (Parameter* p : parameters()) p->zero_grad();
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [_, child] : children_) child->train(on);
}

// Own parameters, then each child through its (possibly overridden) to(), so a Cell deep in the
// tree also updates its dtype.
void Module::to(DType dtype) {
  for (auto& [_, p] : params_) p->to(dtype);
  for (auto& [_, child] : children_) child->to(dtype);
}

}  // namespace seqgrad::nn
