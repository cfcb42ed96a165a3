// A finished long_range run as a UnitStore unit (see long_range.h): the learning curve as four f64
// series, the summary as f64 values and texts, the trained parameters, so a resumed run writes the
// same bits as the run that trained it.
#include <string>
#include <vector>

#include "experiments/common/io.h"
#include "experiments/long_range/long_range.h"

namespace seqgrad::long_range {

namespace {

// The curve's column `field` (0 sequences, 1 accuracy, 2 loss, 3 train loss) as an f64 tensor.
Tensor curve_column(const std::vector<CurvePoint>& curve, int field) {
  std::vector<double> v;
  for (const CurvePoint& p : curve)
    v.push_back(field == 0 ? double(p.sequences) : field == 1 ? p.accuracy : field == 2 ? p.loss : p.train_loss);
  return Tensor::from({int64_t(v.size())}, v, DType::f64);
}

std::vector<CurvePoint> curve_of(const nn::Checkpoint& unit) {
  std::vector<std::vector<double>> c;
  for (int field = 0; field < 4; ++field) c.push_back(unit.tensors.at("curve/" + std::to_string(field)).to_vector());
  std::vector<CurvePoint> curve;
  for (size_t i = 0; i < c[0].size(); ++i) curve.push_back({int64_t(c[0][i]), c[1][i], c[2][i], c[3][i]});
  return curve;
}

}  // namespace

nn::Checkpoint train_unit(const TrainResult& r, double seconds) {
  nn::Checkpoint unit;
  for (int field = 0; field < 4; ++field) unit.tensors["curve/" + std::to_string(field)] = curve_column(r.curve, field);
  unit.tensors["summary"] = Tensor::from({4}, {r.final_accuracy, r.final_loss, r.best_accuracy, seconds}, DType::f64);
  unit.texts["task"] = task_name(r.task);
  unit.texts["cell"] = cell_name(r.cell);
  for (auto [name, v] : std::initializer_list<std::pair<const char*, int64_t>>{{"T", r.T},
                                                                               {"num_parameters", r.num_parameters},
                                                                               {"solved", r.solved},
                                                                               {"sequences", r.sequences},
                                                                               {"diverged", r.diverged}})
    unit.texts[name] = std::to_string(v);
  for (const auto& [name, value] : r.parameters) unit.tensors["param/" + name] = value;
  return unit;
}

TrainResult result_from_unit(const nn::Checkpoint& unit, double* seconds) {
  TrainResult r;
  r.task = parse_task(unit.texts.at("task"));
  r.cell = parse_cell(unit.texts.at("cell"));
  auto whole = [&](const char* name) { return std::stoll(unit.texts.at(name)); };
  r.T = whole("T"), r.num_parameters = whole("num_parameters"), r.sequences = whole("sequences");
  r.solved = whole("solved") != 0, r.diverged = whole("diverged") != 0;
  const std::vector<double> summary = unit.tensors.at("summary").to_vector();
  r.final_accuracy = summary.at(0), r.final_loss = summary.at(1), r.best_accuracy = summary.at(2);
  if (seconds) *seconds = summary.at(3);
  r.curve = curve_of(unit);
  for (const auto& [name, value] : unit.tensors)
    if (name.starts_with("param/")) r.parameters[name.substr(6)] = value;
  return r;
}

}  // namespace seqgrad::long_range
