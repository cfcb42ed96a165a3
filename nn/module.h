// Parameters and modules. A Parameter owns a persistent value and gradient that outlive tapes; a
// Module names its parameters and submodules in registration order, so every parameter has a
// stable hierarchical name ("encoder.lstm.l0.weight_ih") for checkpoints, optimisers and logs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autograd/tape.h"

namespace seqgrad::nn {

class Parameter {
 public:
  Parameter() = default;
  explicit Parameter(Tensor initial) : value(std::move(initial)) {}

  Tensor value;
  Tensor grad;  // same shape and dtype as value once first bound or zeroed

  // The parameter as a leaf of `tape`, bound once per tape generation: every use in one step
  // shares one node, and backward accumulates straight into `grad`.
  Var var(Tape& tape);
  // For the current generation of v's tape, var() returns v instead of binding: the parameter
  // reads v's value and its gradient flows into v. Gradient checking uses it to make gradcheck's
  // own leaves the parameters; it also ties a parameter to any Var of matching shape.
  void use(const Var& v);
  void zero_grad();
  void to(DType dtype);  // converts value and grad (and forgets the binding)

 private:
  Tape* tape_ = nullptr;
  uint32_t generation_ = 0;
  Var bound_;
};

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;  // registered pointers to members must stay valid
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  // Parameters in registration order, depth first, named "child.grandchild.param".
  std::vector<std::pair<std::string, Parameter*>> named_parameters();
  std::vector<Parameter*> parameters();
  int64_t num_parameters();
  void zero_grad();

  // Training mode (dropout active) or evaluation mode, for this module and every submodule.
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  // Converts every parameter (and gradient) to dtype: float64 for gradient checking.
  virtual void to(DType dtype);

 protected:
  Parameter& register_parameter(std::string name, Parameter& p);
  template <typename M>
  M& register_module(std::string name, M& child) {
    add_child(std::move(name), child);
    return child;
  }

 private:
  void add_child(std::string name, Module& child);
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Parameter*>>& out);

  std::vector<std::pair<std::string, Parameter*>> params_;
  std::vector<std::pair<std::string, Module*>> children_;
  bool training_ = true;
};

}  // namespace seqgrad::nn
