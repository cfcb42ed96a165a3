// Internal to nn/: puts a module's parameters back after a temporary change of dtype or values
// (gradient checking and the Jacobian probe run modules in float64).
#pragma once

#include <vector>

#include "nn/module.h"

namespace seqgrad::nn::detail {

// On destruction, puts back every parameter's value and gradient tensors (the same storage) and
// the module's dtype, also when an exception unwinds.
class ParameterRestore {
 public:
  explicit ParameterRestore(Module& module) : module_(module) {
    for (Parameter* p : module.parameters()) saved_.push_back({p, p->value, p->grad});
  }
  ~ParameterRestore() {
    try {
      if (!saved_.empty()) module_.to(saved_.front().value.dtype());  // cells' own dtype bookkeeping
    } catch (...) {  // must not escape a destructor; the values are put back below regardless
    }
    for (auto& s : saved_) {
      s.p->value = s.value;
      s.p->grad = s.grad;
    }
  }
  ParameterRestore(const ParameterRestore&) = delete;
  ParameterRestore& operator=(const ParameterRestore&) = delete;

 private:
  struct Saved {
    Parameter* p;
    Tensor value, grad;
  };
  Module& module_;
  std::vector<Saved> saved_;
};

}  // namespace seqgrad::nn::detail
