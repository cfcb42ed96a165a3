// Adagrad update rule (torch.optim.Adagrad).
#include "optim/adagrad.h"

#include <cmath>

#include "autograd/kernels.h"

namespace seqgrad::optim {

bool set_option(AdagradOptions& o, std::string_view key, double value, const std::string&) {
  if (key == "lr") o.lr = value;
  else if (key == "lr_decay") o.lr_decay = value;
  else if (key == "weight_decay") o.weight_decay = value;
  else if (key == "initial_accumulator_value") o.initial_accumulator_value = value;
  else if (key == "eps") o.eps = value;
  else return false;
  return true;
}

void validate(const AdagradOptions& o, const std::string& where) {
  check_lr(o.lr, where);
  check_at_least(o.lr_decay, 0, "lr_decay", where);
  check_at_least(o.weight_decay, 0, "weight_decay", where);
  check_at_least(o.initial_accumulator_value, 0, "initial_accumulator_value", where);
  check_positive(o.eps, "eps", where);
}

Adagrad::Adagrad(const NamedParameters& params, const AdagradOptions& options, const std::vector<ParamGroup>& groups)
    : OptimizerOf("Adagrad", params, options, groups) {}

std::vector<std::string> Adagrad::state_names(size_t) const { return {"sum"}; }

// clr ← lr / (1 + (t − 1)·η)
// g ← ∇ + λp;  s ← s + g²  (s starts at initial_accumulator_value)
// p ← p − clr·g / (√s + eps)
void Adagrad::update(Slot& s) {
  const AdagradOptions& o = options_[s.group];
  Tensor& value = s.param->value;
  const Tensor& grad = s.param->grad;
  Tensor sum = s.buffer("sum", o.initial_accumulator_value);
  const double clr = o.lr / (1 + double(s.step - 1) * o.lr_decay);
  dispatch(value.dtype(), [&]<typename T>(T) {
    T *p = value.data<T>(), *ps = sum.data<T>();
    const T* dp = grad.data<T>();
    const T neg_clr = T(-clr), wd = T(o.weight_decay), eps = T(o.eps);
    kernels::parallel_chunks(value.numel(), kernels::kElementGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        T g = dp[i];
        if (o.weight_decay != 0) g = g + wd * p[i];
        ps[i] = ps[i] + g * g;
        p[i] = p[i] + neg_clr * g / (std::sqrt(ps[i]) + eps);
      }
    });
  });
}

}  // namespace seqgrad::optim
