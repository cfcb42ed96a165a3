// A Result as a unit checkpoint and back (--resume). See architecture_comparison.h.
#include <limits>
#include <sstream>
#include <stdexcept>

#include "experiments/architecture_comparison/architecture_comparison.h"
#include "experiments/common/io.h"

namespace seqgrad::architecture_comparison {

namespace {

constexpr int64_t kEpochColumns = 4;  // train_loss, val_metric, seconds, cpu_seconds

// The text `key` of ckpt; throws naming `what` and the key when absent.
const std::string& text(const nn::Checkpoint& ckpt, const std::string& key, const std::string& what) {
  auto it = ckpt.texts.find(key);
  if (it == ckpt.texts.end()) throw std::invalid_argument(what + ": no '" + key + "' in the saved result");
  return it->second;
}

// A number written by format_number (shortest round trip), read back to the same bits.
double number(const nn::Checkpoint& ckpt, const std::string& key, const std::string& what) {
  const std::string& s = text(ckpt, key, what);
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {}
  if (s == "nan" || s == "-nan") return std::numeric_limits<double>::quiet_NaN();
  throw std::invalid_argument(what + ": '" + key + "' is not a number: '" + experiments::printable(s) + "'");
}

// The epochs as an (E, 4) float64 tensor and back.
Tensor epochs_tensor(const std::vector<Epoch>& epochs) {
  std::vector<double> v;
  for (const Epoch& e : epochs) v.insert(v.end(), {e.train_loss, e.val_metric, e.seconds, e.cpu_seconds});
  return Tensor::from({int64_t(epochs.size()), kEpochColumns}, v, DType::f64);
}

std::vector<Epoch> epochs_from(const nn::Checkpoint& ckpt, const std::string& what) {
  auto it = ckpt.tensors.find("epochs");
  if (it == ckpt.tensors.end() || it->second.rank() != 2 || it->second.size(1) != kEpochColumns ||
      it->second.dtype() != DType::f64)
    throw std::invalid_argument(what + ": no (epochs, 4) float64 tensor 'epochs' in the saved result");
  const std::vector<double> v = it->second.to_vector();
  std::vector<Epoch> out;
  for (size_t i = 0; i + 3 < v.size(); i += kEpochColumns) out.push_back({v[i], v[i + 1], v[i + 2], v[i + 3]});
  return out;
}

}  // namespace

nn::Checkpoint to_checkpoint(const Result& r) {
  nn::Checkpoint c;
  for (const auto& [name, value] : r.parameters) c.tensors["param/" + name] = value;
  c.tensors["epochs"] = epochs_tensor(r.epochs);
  c.texts["cell"] = cell_name(r.cell);
  c.texts["seed"] = std::to_string(r.seed);
  c.texts["num_parameters"] = std::to_string(r.num_parameters);
  c.texts["recurrent_parameters"] = std::to_string(r.recurrent_parameters);
  c.texts["val_name"] = r.val_name;
  c.texts["higher_is_better"] = r.higher_is_better ? "1" : "0";
  c.texts["best_epoch"] = std::to_string(r.best_epoch);
  std::string names;
  for (const auto& [name, value] : r.metrics) {
    names += name + "\n";
    c.texts["metric/" + name] = experiments::format_number(value);
  }
  c.texts["metric_names"] = names;
  return c;
}

Result result_from(const nn::Checkpoint& c, const std::string& what) {
  Result r;
  r.cell = parse_cell(text(c, "cell", what));
  r.seed = std::stoull(text(c, "seed", what));  // written by std::to_string
  r.num_parameters = int64_t(number(c, "num_parameters", what));
  r.recurrent_parameters = int64_t(number(c, "recurrent_parameters", what));
  r.val_name = text(c, "val_name", what);
  r.higher_is_better = text(c, "higher_is_better", what) == "1";
  r.best_epoch = int64_t(number(c, "best_epoch", what));
  r.epochs = epochs_from(c, what);
  std::istringstream names(text(c, "metric_names", what));
  for (std::string name; std::getline(names, name);) r.metrics.push_back({name, number(c, "metric/" + name, what)});
  for (const auto& [key, value] : c.tensors)
    if (key.starts_with("param/")) r.parameters[key.substr(6)] = value;
  return r;
}

}  // namespace seqgrad::architecture_comparison
