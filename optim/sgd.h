// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
// following torch.optim.SGD's documented algorithm step for step.
#pragma once

#include "optim/optimizer.h"

namespace seqgrad::optim {

struct SgdOptions {
  double lr = 1e-3;
  double momentum = 0;      // μ in [0, 1)
  double dampening = 0;     // τ in [0, 1]
  double weight_decay = 0;  // λ >= 0 (L2: added to the gradient)
  bool nesterov = false;    // needs μ > 0 and τ = 0
};
bool set_option(SgdOptions& o, std::string_view key, double value, const std::string& where);
void validate(const SgdOptions& o, const std::string& where);

class SGD : public OptimizerOf<SgdOptions> {
 public:
  SGD(const NamedParameters& params, const SgdOptions& options = {}, const std::vector<ParamGroup>& groups = {});

 protected:
  void update(Slot& slot) override;
  std::vector<std::string> state_names(size_t group) const override;
};

}  // namespace seqgrad::optim
