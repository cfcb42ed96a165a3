// Adam (Kingma & Ba 2015) with bias correction and the AMSGrad option, and AdamW (Loshchilov &
// Hutter 2019: weight decay decoupled from the gradient), following torch.optim.Adam/AdamW.
#pragma once

#include "optim/optimizer.h"

namespace seqgrad::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;  // in [0, 1)
  double eps = 1e-8;                  // > 0, added after the square root
  double weight_decay = 0;            // λ >= 0: Adam adds λp to the gradient; AdamW decays p directly
  bool amsgrad = false;
};
// AdamW's defaults differ only in weight_decay.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
};
bool set_option(AdamOptions& o, std::string_view key, double value, const std::string& where);
void validate(const AdamOptions& o, const std::string& where);

class Adam : public OptimizerOf<AdamOptions> {
 public:
  Adam(const NamedParameters& params, const AdamOptions& options = {}, const std::vector<ParamGroup>& groups = {});

 protected:
  Adam(const char* name, const NamedParameters& params, const AdamOptions& options,
       const std::vector<ParamGroup>& groups, bool decoupled);
  void update(Slot& slot) override;
  std::vector<std::string> state_names(size_t group) const override;

 private:
  bool decoupled_ = false;
};

class AdamW : public Adam {
 public:
  AdamW(const NamedParameters& params, const AdamWOptions& options = {}, const std::vector<ParamGroup>& groups = {});
};

}  // namespace seqgrad::optim
