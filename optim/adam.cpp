// Adam and AdamW update rules (torch.optim.Adam, torch.optim.AdamW).
#include "optim/adam.h"

#include <cmath>

#include "autograd/kernels.h"

namespace seqgrad::optim {

bool set_option(AdamOptions& o, std::string_view key, double value, const std::string& where) {
  if (key == "lr") o.lr = value;
  else if (key == "beta1") o.beta1 = value;
  else if (key == "beta2") o.beta2 = value;
  else if (key == "eps") o.eps = value;
  else if (key == "weight_decay") o.weight_decay = value;
  else if (key == "amsgrad") return set_flag(o.amsgrad, value, "amsgrad", where);
  else return false;
  return true;
}

void validate(const AdamOptions& o, const std::string& where) {
  check_lr(o.lr, where);
  check_unit(o.beta1, "beta1", where);
  check_unit(o.beta2, "beta2", where);
  check_positive(o.eps, "eps", where);
  check_at_least(o.weight_decay, 0, "weight_decay", where);
}

Adam::Adam(const NamedParameters& params, const AdamOptions& options, const std::vector<ParamGroup>& groups)
    : Adam("Adam", params, options, groups, false) {}

Adam::Adam(const char* name, const NamedParameters& params, const AdamOptions& options,
           const std::vector<ParamGroup>& groups, bool decoupled)
    : OptimizerOf(name, params, options, groups), decoupled_(decoupled) {}

static AdamOptions adam_options(const AdamWOptions& o) {
  return {.lr = o.lr,
          .beta1 = o.beta1,
          .beta2 = o.beta2,
          .eps = o.eps,
          .weight_decay = o.weight_decay,
          .amsgrad = o.amsgrad};
}

AdamW::AdamW(const NamedParameters& params, const AdamWOptions& options, const std::vector<ParamGroup>& groups)
    : Adam("AdamW", params, adam_options(options), groups, true) {}

std::vector<std::string> Adam::state_names(size_t group) const {
  if (options_[group].amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

// Adam:  g ← ∇ + λp                 AdamW: p ← p·(1 − lr·λ), g ← ∇
// m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
// AMSGrad: v_max ← max(v_max, v), used for v below (the raw maximum, as torch's implementation)
// p ← p − (lr / (1 − β1^t))·m / (√v / √(1 − β2^t) + eps)      i.e. lr·m̂ / (√v̂ + eps)
void Adam::update(Slot& s) {
  const AdamOptions& o = options_[s.group];
  Tensor& value = s.param->value;
  const Tensor& grad = s.param->grad;
  Tensor m = s.buffer("exp_avg"), v = s.buffer("exp_avg_sq");
  Tensor vmax = o.amsgrad ? s.buffer("max_exp_avg_sq") : Tensor();
  const double t = double(s.step);
  const double step_size = o.lr / (1 - std::pow(o.beta1, t));
  const double bc2_sqrt = std::sqrt(1 - std::pow(o.beta2, t));
  dispatch(value.dtype(), [&]<typename T>(T) {
    T *p = value.data<T>(), *pm = m.data<T>(), *pv = v.data<T>();
    T* pmax = vmax.defined() ? vmax.data<T>() : nullptr;
    const T* dp = grad.data<T>();
    const T wd = T(o.weight_decay), decay = T(1 - o.lr * o.weight_decay);
    const T b1 = T(o.beta1), c1 = T(1 - o.beta1), b2 = T(o.beta2), c2 = T(1 - o.beta2);
    const T eps = T(o.eps), neg_step = T(-step_size), bc2 = T(bc2_sqrt);
    const bool l2 = o.weight_decay != 0 && !decoupled_, decay_p = o.weight_decay != 0 && decoupled_;
    kernels::parallel_chunks(value.numel(), kernels::kElementGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        T g = dp[i];
        if (l2) g = g + wd * p[i];
        if (decay_p) p[i] = p[i] * decay;
        pm[i] = b1 * pm[i] + c1 * g;
        pv[i] = b2 * pv[i] + c2 * g * g;
        T second = pv[i];
        if (pmax) second = pmax[i] = pv[i] > pmax[i] || pv[i] != pv[i] ? pv[i] : pmax[i];  // NaN propagates
        const T denom = std::sqrt(second) / bc2 + eps;
        p[i] = p[i] + neg_step * pm[i] / denom;
      }
    });
  });
}

}  // namespace seqgrad::optim
