// Finished trainings of Experiment 1 as UnitStore units (see gradient_study.h): every number a part
// reports is kept, series as f64 tensors and counts as texts, so a resumed run writes the same bits.
#include <string>
#include <vector>

#include "experiments/gradient_study/gradient_study.h"

namespace seqgrad::gradient_study {

namespace {

// A series as a rank-1 f64 tensor (exact for every double, NaN and inf included).
Tensor series(const std::vector<double>& v) { return Tensor::from({int64_t(v.size())}, v, DType::f64); }
std::vector<double> series(const nn::Checkpoint& unit, const std::string& name) {
  return unit.tensors.at(name).to_vector();
}
int64_t count(const nn::Checkpoint& unit, const std::string& name) { return std::stoll(unit.texts.at(name)); }

void put_profile(nn::Checkpoint& unit, const std::string& stage, const GradientProfile& p) {
  unit.tensors["series/" + stage + "/h_norms"] = series(p.h_norms);
  unit.tensors["series/" + stage + "/loss"] = series({p.loss});
}
GradientProfile get_profile(const nn::Checkpoint& unit, const std::string& stage) {
  return {series(unit, "series/" + stage + "/h_norms"), series(unit, "series/" + stage + "/loss").at(0)};
}

}  // namespace

nn::Checkpoint network_unit(const NetworkResult& r) {
  nn::Checkpoint unit;
  unit.texts["cell"] = cell_name(r.cell);
  unit.texts["num_parameters"] = std::to_string(r.num_parameters);
  put_profile(unit, "init", r.init);
  put_profile(unit, "trained", r.trained);
  unit.tensors["series/train_loss"] = series(r.train_loss);
  for (const auto& [name, value] : r.parameters) unit.tensors["param/" + name] = value;
  return unit;
}

NetworkResult network_from_unit(const nn::Checkpoint& unit) {
  NetworkResult r;
  r.cell = parse_cell(unit.texts.at("cell"));
  r.num_parameters = count(unit, "num_parameters");
  r.init = get_profile(unit, "init");
  r.trained = get_profile(unit, "trained");
  r.train_loss = series(unit, "series/train_loss");
  for (const auto& [name, value] : unit.tensors)
    if (name.starts_with("param/")) r.parameters[name.substr(6)] = value;
  return r;
}

nn::Checkpoint clipping_unit(const ClippingRun& r) {
  nn::Checkpoint unit;
  unit.tensors["series/loss"] = series(r.loss);
  unit.tensors["series/grad_norms"] = series(r.grad_norms);
  unit.tensors["series/summary"] = series({r.theta, r.final_loss, r.max_loss, r.max_grad_norm});
  unit.texts["clipped"] = std::to_string(r.clipped);
  unit.texts["nonfinite"] = std::to_string(r.nonfinite);
  unit.texts["diverged_at"] = std::to_string(r.diverged_at);
  return unit;
}

ClippingRun clipping_from_unit(const nn::Checkpoint& unit) {
  ClippingRun r;
  r.loss = series(unit, "series/loss");
  r.grad_norms = series(unit, "series/grad_norms");
  const std::vector<double> s = series(unit, "series/summary");
  r.theta = s.at(0), r.final_loss = s.at(1), r.max_loss = s.at(2), r.max_grad_norm = s.at(3);
  r.clipped = count(unit, "clipped");
  r.nonfinite = count(unit, "nonfinite");
  r.diverged_at = count(unit, "diverged_at");
  return r;
}

}  // namespace seqgrad::gradient_study
