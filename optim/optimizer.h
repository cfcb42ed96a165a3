// Optimizer base: named parameters split into groups (each with its own options, e.g. no weight
// decay on biases), per-parameter state tensors and step counts, learning-rate control, and
// bit-exact state save/load through nn::Checkpoint, so a resumed run continues bitwise identically.
//
//   auto biases = optim::select(model.named_parameters(), [](auto& n) { return n.ends_with("bias"); });
//   optim::AdamW opt(model.named_parameters(), {.lr = 1e-3}, {{biases, {{"weight_decay", 0.0}}}});
//   opt.zero_grad(); ...backward...; opt.step();
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nn/io/checkpoint.h"
#include "nn/module.h"

namespace seqgrad::optim {

using NamedParameters = std::vector<std::pair<std::string, nn::Parameter*>>;

// Parameters listed by name, with option overrides ({"weight_decay", 0.0}, {"lr", 1e-4}, ...;
// booleans as 0/1). Parameters in no group form group 0 with the optimizer's default options.
struct ParamGroup {
  std::vector<std::string> names;
  std::map<std::string, double> options;
};

// Names of the parameters for which pred(name) holds, in order.
std::vector<std::string> select(const NamedParameters& params, const std::function<bool(const std::string&)>& pred);

// Exact text form of a double (its 64 bits as 16 hex digits) and back; parsing throws naming `what`.
std::string double_to_hex(double v);
double hex_to_double(const std::string& text, const std::string& what);

// "%g"-style text of a value for error messages.
std::string num(double v);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient (parameters without one are skipped).
  void step();
  void zero_grad();

  // The base learning rate. set_lr sets it; a group created with its own lr keeps its ratio to the
  // base (group lr = base · group_lr₀ / base₀), like PyTorch schedulers scaling each group's lr.
  double lr() const { return base_lr_; }
  void set_lr(double lr);
  double group_lr(size_t group) const { return get_group_lr(group); }
  size_t num_groups() const { return lr_ratio_.size(); }
  size_t group_of(const std::string& param_name) const;

  const std::string& name() const { return name_; }  // "SGD", "Adam", ...
  int64_t steps() const { return steps_; }           // step() calls so far: the schedule position

  // State under "<prefix><state>/<param name>" tensors (cloned: a snapshot) and texts
  // "<prefix>type", "<prefix>steps", "<prefix>step/<param name>", "<prefix>lr", "<prefix>lr/<group>"
  // (doubles as hex bits). load_state is strict and all-or-nothing: it validates everything
  // (type, names, shapes, dtypes, missing or unexpected entries) before changing anything.
  void save_state(nn::Checkpoint& ckpt, const std::string& prefix = "optim/") const;
  void load_state(const nn::Checkpoint& ckpt, const std::string& prefix = "optim/");

 protected:
  // One parameter with its state: step count and named state tensors (same shape/dtype as value).
  struct Slot {
    std::string name;
    nn::Parameter* param = nullptr;
    size_t group = 0;
    int64_t step = 0;
    std::vector<std::pair<std::string, Tensor>> state;
    // The state tensor `key`, created filled with `init` on first use.
    Tensor& buffer(const std::string& key, double init = 0.0);
  };

  // Splits params into groups; returns each group's overrides (group 0: none). Throws naming the
  // optimizer on a null, duplicate or unknown parameter.
  Optimizer(std::string name, const NamedParameters& params, const std::vector<ParamGroup>& groups);
  std::vector<std::map<std::string, double>> group_overrides_;  // consumed by the derived constructor

  // Must be called once by the derived constructor, after its per-group options exist.
  void init_lr(double base_lr);

  virtual void update(Slot& slot) = 0;  // slot.step has already been incremented
  // State tensor names a parameter of `group` has after its first step (for load validation).
  virtual std::vector<std::string> state_names(size_t group) const = 0;
  virtual double get_group_lr(size_t group) const = 0;
  virtual void set_group_lr(size_t group, double lr) = 0;

  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string name_;
  std::vector<Slot> slots_;
  std::vector<double> lr_ratio_;
  double base_lr_ = 0;
  int64_t steps_ = 0;
};

// Base with one Options struct per group. Options provides, found by ADL:
//   bool set_option(Options&, std::string_view key, double value, const std::string& where);
//        // false: unknown key; throws naming `where` on a bad boolean
//   void validate(const Options&, const std::string& where);  // throws naming `where`
template <typename Options>
class OptimizerOf : public Optimizer {
 public:
  const Options& options(size_t group = 0) const { return options_.at(group); }

 protected:
  OptimizerOf(std::string name, const NamedParameters& params, const Options& defaults,
              const std::vector<ParamGroup>& groups)
      : Optimizer(std::move(name), params, groups) {
    validate(defaults, this->name());
    for (size_t g = 0; g < group_overrides_.size(); ++g) {
      Options o = defaults;
      const std::string where = this->name() + ": group " + std::to_string(g);
      for (const auto& [key, value] : group_overrides_[g])
        if (!set_option(o, key, value, where))
          fail("group " + std::to_string(g) + ": unknown option '" + key + "' = " + num(value));
      validate(o, where);
      options_.push_back(o);
    }
    init_lr(defaults.lr);
  }
  double get_group_lr(size_t g) const override { return options_[g].lr; }
  void set_group_lr(size_t g, double lr) override { options_[g].lr = lr; }

  std::vector<Options> options_;
};

// Shared option checks, throwing "<where>: invalid <key> = <value> (must be ...)".
void check_lr(double lr, const std::string& where);
void check_at_least(double v, double lo, const char* key, const std::string& where);             // v >= lo
void check_positive(double v, const char* key, const std::string& where);                        // v > 0
void check_unit(double v, const char* key, const std::string& where, bool one_allowed = false);  // [0, 1) or [0, 1]
bool set_flag(bool& flag, double value, const char* key, const std::string& where);              // 0 or 1

}  // namespace seqgrad::optim
