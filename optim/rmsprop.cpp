// RMSprop update rule (torch.optim.RMSprop).
#include "optim/rmsprop.h"

#include <cmath>

#include "autograd/kernels.h"

namespace seqgrad::optim {

bool set_option(RmspropOptions& o, std::string_view key, double value, const std::string& where) {
  if (key == "lr") o.lr = value;
  else if (key == "alpha") o.alpha = value;
  else if (key == "eps") o.eps = value;
  else if (key == "weight_decay") o.weight_decay = value;
  else if (key == "momentum") o.momentum = value;
  else if (key == "centered") return set_flag(o.centered, value, "centered", where);
  else return false;
  return true;
}

void validate(const RmspropOptions& o, const std::string& where) {
  check_lr(o.lr, where);
  check_unit(o.alpha, "alpha", where, /*one_allowed=*/true);
  check_positive(o.eps, "eps", where);
  check_at_least(o.weight_decay, 0, "weight_decay", where);
  check_unit(o.momentum, "momentum", where);
}

RMSprop::RMSprop(const NamedParameters& params, const RmspropOptions& options, const std::vector<ParamGroup>& groups)
    : OptimizerOf("RMSprop", params, options, groups) {}

std::vector<std::string> RMSprop::state_names(size_t group) const {
  std::vector<std::string> names{"square_avg"};
  if (options_[group].momentum > 0) names.push_back("momentum_buffer");
  if (options_[group].centered) names.push_back("grad_avg");
  return names;
}

// g ← ∇ + λp
// v ← α·v + (1 − α)·g²;  ṽ ← v, or centered: ḡ ← α·ḡ + (1 − α)·g, ṽ ← v − ḡ²
// with momentum μ > 0: b ← μ·b + g / (√ṽ + eps), p ← p − lr·b      (b starts at 0)
// otherwise:           p ← p − lr·g / (√ṽ + eps)
void RMSprop::update(Slot& s) {
  const RmspropOptions& o = options_[s.group];
  Tensor& value = s.param->value;
  const Tensor& grad = s.param->grad;
  Tensor v = s.buffer("square_avg");
  Tensor buf = o.momentum > 0 ? s.buffer("momentum_buffer") : Tensor();
  Tensor gavg = o.centered ? s.buffer("grad_avg") : Tensor();
  dispatch(value.dtype(), [&]<typename T>(T) {
    T *p = value.data<T>(), *pv = v.data<T>();
    T* pb = buf.defined() ? buf.data<T>() : nullptr;
    T* pg = gavg.defined() ? gavg.data<T>() : nullptr;
    const T* dp = grad.data<T>();
    const T lr = T(o.lr), wd = T(o.weight_decay), a = T(o.alpha), ca = T(1 - o.alpha), eps = T(o.eps),
            mu = T(o.momentum);
    kernels::parallel_chunks(value.numel(), kernels::kElementGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        T g = dp[i];
        if (o.weight_decay != 0) g = g + wd * p[i];
        pv[i] = a * pv[i] + ca * g * g;
        T var = pv[i];
        if (pg) {
          pg[i] = a * pg[i] + ca * g;
          var = var - pg[i] * pg[i];
        }
        const T denom = std::sqrt(var) + eps;
        if (pb) {
          pb[i] = mu * pb[i] + g / denom;
          p[i] = p[i] - lr * pb[i];
        } else {
          p[i] = p[i] - lr * g / denom;
        }
      }
    });
  });
}

}  // namespace seqgrad::optim
