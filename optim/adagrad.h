// Adagrad (Duchi et al. 2011), following torch.optim.Adagrad.
#pragma once

#include "optim/optimizer.h"

namespace seqgrad::optim {

struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;                   // >= 0: clr = lr / (1 + (t − 1)·lr_decay)
  double weight_decay = 0;               // λ >= 0 (L2)
  double initial_accumulator_value = 0;  // >= 0: starting value of the squared-gradient sum
  double eps = 1e-10;                    // > 0, added after the square root
};
bool set_option(AdagradOptions& o, std::string_view key, double value, const std::string& where);
void validate(const AdagradOptions& o, const std::string& where);

class Adagrad : public OptimizerOf<AdagradOptions> {
 public:
  Adagrad(const NamedParameters& params, const AdagradOptions& options = {},
          const std::vector<ParamGroup>& groups = {});

 protected:
  void update(Slot& slot) override;
  std::vector<std::string> state_names(size_t group) const override;
};

}  // namespace seqgrad::optim
