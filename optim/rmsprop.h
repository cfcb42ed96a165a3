// RMSprop (Tieleman & Hinton 2012; centered form from Graves 2013), following torch.optim.RMSprop.
#pragma once

#include "optim/optimizer.h"

namespace seqgrad::optim {

struct RmspropOptions {
  double lr = 1e-2;
  double alpha = 0.99;      // smoothing of the squared-gradient average, in [0, 1]
  double eps = 1e-8;        // > 0, added after the square root
  double weight_decay = 0;  // λ >= 0 (L2)
  double momentum = 0;      // μ in [0, 1)
  bool centered = false;    // normalise by the variance estimate v − ḡ² instead of v
};
bool set_option(RmspropOptions& o, std::string_view key, double value, const std::string& where);
void validate(const RmspropOptions& o, const std::string& where);

class RMSprop : public OptimizerOf<RmspropOptions> {
 public:
  RMSprop(const NamedParameters& params, const RmspropOptions& options = {},
          const std::vector<ParamGroup>& groups = {});

 protected:
  void update(Slot& slot) override;
  std::vector<std::string> state_names(size_t group) const override;
};

}  // namespace seqgrad::optim
