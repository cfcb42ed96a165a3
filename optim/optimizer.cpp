// Optimizer base: groups, the step loop, learning-rate control and exact state save/load.
#include "optim/optimizer.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace seqgrad::optim {

std::vector<std::string> select(const NamedParameters& params, const std::function<bool(const std::string&)>& pred) {
  std::vector<std::string> out;
  for (const auto& [name, _] : params)
    if (pred(name)) out.push_back(name);
  return out;
}

std::string double_to_hex(double v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(std::bit_cast<uint64_t>(v)));
  return buf;
}

double hex_to_double(const std::string& text, const std::string& what) {
  uint64_t bits = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bits, 16);
  if (text.size() != 16 || ec != std::errc() || end != text.data() + text.size())
    throw std::invalid_argument(what + ": '" + text + "' is not a 16-digit hex double");
  return std::bit_cast<double>(bits);
}

static int64_t parse_count(const std::string& text, const std::string& what) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0)
    throw std::invalid_argument(what + ": '" + text + "' is not a non-negative integer");
  return v;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// ---- option checks ------------------------------------------------------------------------------

static void invalid(const std::string& where, const char* key, double v, const char* rule) {
  throw std::invalid_argument(where + ": invalid " + key + " = " + num(v) + " (must be " + rule + ")");
}

void check_lr(double lr, const std::string& where) {
  if (!(lr >= 0) || !std::isfinite(lr)) invalid(where, "lr", lr, "finite and >= 0");
}
void check_at_least(double v, double lo, const char* key, const std::string& where) {
  if (!(v >= lo) || !std::isfinite(v)) invalid(where, key, v, (">= " + num(lo)).c_str());
}
void check_positive(double v, const char* key, const std::string& where) {
  if (!(v > 0) || !std::isfinite(v)) invalid(where, key, v, "finite and > 0");
}
void check_unit(double v, const char* key, const std::string& where, bool one_allowed) {
  if (!(v >= 0) || (one_allowed ? !(v <= 1) : !(v < 1)))
    invalid(where, key, v, one_allowed ? "in [0, 1]" : "in [0, 1)");
}
bool set_flag(bool& flag, double value, const char* key, const std::string& where) {
  if (value != 0 && value != 1) invalid(where, key, value, "0 or 1");
  flag = value == 1;
  return true;
}

// ---- Optimizer ----------------------------------------------------------------------------------

Tensor& Optimizer::Slot::buffer(const std::string& key, double init) {
  for (auto& [k, t] : state)
    if (k == key) return t;
  state.emplace_back(key, Tensor::full(param->value.shape(), init, param->value.dtype()));
  return state.back().second;
}

void Optimizer::fail(const std::string& what) const { throw std::invalid_argument(name_ + ": " + what); }

Optimizer::Optimizer(std::string name, const NamedParameters& params, const std::vector<ParamGroup>& groups)
    : name_(std::move(name)) {
  std::map<std::string, size_t> index;
  std::set<const nn::Parameter*> seen;
  for (const auto& [pname, p] : params) {
    if (!p) fail("parameter '" + pname + "' is null");
    if (!index.emplace(pname, slots_.size()).second) fail("parameter name '" + pname + "' appears twice");
    if (!seen.insert(p).second) fail("parameter '" + pname + "' is the same object as an earlier one");
    slots_.push_back(Slot{pname, p, 0, 0, {}});
  }
  group_overrides_.emplace_back();
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string gs = std::to_string(g + 1);
    for (const std::string& pname : groups[g].names) {
      auto it = index.find(pname);
      if (it == index.end()) fail("group " + gs + " names unknown parameter '" + pname + "'");
      Slot& s = slots_[it->second];
      if (s.group != 0) fail("parameter '" + pname + "' is in groups " + std::to_string(s.group) + " and " + gs);
      s.group = g + 1;
    }
    group_overrides_.push_back(groups[g].options);
  }
}

void Optimizer::init_lr(double base_lr) {
  base_lr_ = base_lr;
  lr_ratio_.clear();
  for (size_t g = 0; g < group_overrides_.size(); ++g)
    lr_ratio_.push_back(base_lr == 0 ? 1.0 : get_group_lr(g) / base_lr);
}

void Optimizer::set_lr(double lr) {
  check_lr(lr, name_ + ": set_lr");
  base_lr_ = lr;
  for (size_t g = 0; g < lr_ratio_.size(); ++g) set_group_lr(g, lr * lr_ratio_[g]);
}

size_t Optimizer::group_of(const std::string& param_name) const {
  for (const Slot& s : slots_)
    if (s.name == param_name) return s.group;
  fail("no parameter named '" + param_name + "'");
}

void Optimizer::step() {
  // Validate every gradient first, so a bad one throws before any parameter moves.
  for (const Slot& s : slots_) {
    const nn::Parameter& p = *s.param;
    if (!p.grad.defined()) continue;
    if (!p.value.defined()) fail("parameter '" + s.name + "' has a gradient but no value");
    if (!(p.grad.shape() == p.value.shape()) || p.grad.dtype() != p.value.dtype())
      fail("parameter '" + s.name + "': gradient " + p.grad.describe() + " does not match value " + p.value.describe());
  }
  for (Slot& s : slots_) {
    if (!s.param->grad.defined()) continue;
    ++s.step;
    update(s);
  }
  ++steps_;
}

void Optimizer::zero_grad() {
  for (Slot& s : slots_)
    if (s.param->value.defined()) s.param->zero_grad();
}

// ---- state --------------------------------------------------------------------------------------

void Optimizer::save_state(nn::Checkpoint& ckpt, const std::string& prefix) const {
  ckpt.texts[prefix + "type"] = name_;
  ckpt.texts[prefix + "steps"] = std::to_string(steps_);
  ckpt.texts[prefix + "lr"] = double_to_hex(base_lr_);
  for (size_t g = 0; g < num_groups(); ++g)
    ckpt.texts[prefix + "lr/" + std::to_string(g)] = double_to_hex(get_group_lr(g));
  for (const Slot& s : slots_) {
    if (s.step == 0) continue;
    ckpt.texts[prefix + "step/" + s.name] = std::to_string(s.step);
    for (const auto& [key, t] : s.state) ckpt.tensors[prefix + key + "/" + s.name] = t.clone();
  }
}

void Optimizer::load_state(const nn::Checkpoint& ckpt, const std::string& prefix) {
  std::set<std::string> used;
  auto text = [&](const std::string& key, bool required) -> const std::string* {
    auto it = ckpt.texts.find(prefix + key);
    if (it == ckpt.texts.end()) {
      if (required) fail("checkpoint has no '" + prefix + key + "'");
      return nullptr;
    }
    used.insert(it->first);
    return &it->second;
  };
  const std::string& type = *text("type", true);
  if (type != name_) fail("checkpoint holds " + type + " state under '" + prefix + "', not " + name_);
  const int64_t steps = parse_count(*text("steps", true), name_ + ": " + prefix + "steps");
  const double base_lr = hex_to_double(*text("lr", true), name_ + ": " + prefix + "lr");
  std::vector<double> group_lr;
  for (size_t g = 0; g < num_groups(); ++g) {
    const std::string key = "lr/" + std::to_string(g);
    group_lr.push_back(hex_to_double(*text(key, true), name_ + ": " + prefix + key));
    check_lr(group_lr.back(), name_ + ": " + prefix + key);
  }
  // Per parameter: step count and state tensors, validated against the parameter.
  std::vector<int64_t> step(slots_.size(), 0);
  std::vector<std::vector<std::pair<std::string, Tensor>>> state(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    const std::string* st = text("step/" + s.name, false);
    if (!st) continue;
    step[i] = parse_count(*st, name_ + ": " + prefix + "step/" + s.name);
    for (const std::string& key : state_names(s.group)) {
      const std::string full = prefix + key + "/" + s.name;
      auto it = ckpt.tensors.find(full);
      if (it == ckpt.tensors.end()) fail("checkpoint has no '" + full + "'");
      const Tensor& t = it->second;
      if (!(t.shape() == s.param->value.shape()) || t.dtype() != s.param->value.dtype())
        fail("'" + full + "' is " + t.describe() + " but parameter '" + s.name + "' is " + s.param->value.describe());
      used.insert(full);
      state[i].emplace_back(key, t.clone());
    }
  }
  for (const auto& [key, _] : ckpt.texts)
    if (key.starts_with(prefix) && !used.count(key)) fail("unexpected checkpoint entry '" + key + "'");
  for (const auto& [key, _] : ckpt.tensors)
    if (key.starts_with(prefix) && !used.count(key)) fail("unexpected checkpoint tensor '" + key + "'");

  // Everything checked: apply.
  steps_ = steps;
  base_lr_ = base_lr;
  for (size_t g = 0; g < group_lr.size(); ++g) set_group_lr(g, group_lr[g]);
  for (size_t i = 0; i < slots_.size(); ++i) {
    slots_[i].step = step[i];
    slots_[i].state = std::move(state[i]);
  }
}

}  // namespace seqgrad::optim
