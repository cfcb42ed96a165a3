// SGD update rule (torch.optim.SGD).
#include "optim/sgd.h"

#include "autograd/kernels.h"

namespace seqgrad::optim {

bool set_option(SgdOptions& o, std::string_view key, double value, const std::string& where) {
  if (key == "lr") o.lr = value;
  else if (key == "momentum") o.momentum = value;
  else if (key == "dampening") o.dampening = value;
  else if (key == "weight_decay") o.weight_decay = value;
  else if (key == "nesterov") return set_flag(o.nesterov, value, "nesterov", where);
  else return false;
  return true;
}

void validate(const SgdOptions& o, const std::string& where) {
  check_lr(o.lr, where);
  check_unit(o.momentum, "momentum", where);
  check_unit(o.dampening, "dampening", where, /*one_allowed=*/true);
  check_at_least(o.weight_decay, 0, "weight_decay", where);
  if (o.nesterov && (o.momentum == 0 || o.dampening != 0))
    throw std::invalid_argument(where + ": nesterov needs momentum > 0 and dampening = 0 (momentum = " +
                                num(o.momentum) + ", dampening = " + num(o.dampening) + ")");
}

SGD::SGD(const NamedParameters& params, const SgdOptions& options, const std::vector<ParamGroup>& groups)
    : OptimizerOf("SGD", params, options, groups) {}

std::vector<std::string> SGD::state_names(size_t group) const {
  if (options_[group].momentum != 0) return {"momentum_buffer"};
  return {};
}

// g ← ∇ + λp
// b ← g on the first step, else μb + (1 − τ)g      (only with momentum μ ≠ 0)
// g ← g + μb (Nesterov) or b
// p ← p − lr·g
void SGD::update(Slot& s) {
  const SgdOptions& o = options_[s.group];
  Tensor& value = s.param->value;
  const Tensor& grad = s.param->grad;
  const bool first = s.step == 1;
  Tensor buf = o.momentum != 0 ? s.buffer("momentum_buffer") : Tensor();
  dispatch(value.dtype(), [&]<typename T>(T) {
    T* p = value.data<T>();
    const T* dp = grad.data<T>();
    T* b = buf.defined() ? buf.data<T>() : nullptr;
    const T lr = T(o.lr), wd = T(o.weight_decay), mu = T(o.momentum), damp = T(1 - o.dampening);
    kernels::parallel_chunks(value.numel(), kernels::kElementGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        T g = dp[i];
        if (o.weight_decay != 0) g = g + wd * p[i];
        if (b) {
          b[i] = first ? g : mu * b[i] + damp * g;
          g = o.nesterov ? g + mu * b[i] : b[i];
        }
        p[i] = p[i] - lr * g;
      }
    });
  });
}

}  // namespace seqgrad::optim
