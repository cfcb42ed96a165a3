// Learning-rate schedules and ReduceOnPlateau.
#include "optim/schedule.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "optim/optimizer.h"

namespace seqgrad::optim {

namespace {

void require(bool ok, const std::string& schedule, const char* key, double v, const char* rule) {
  if (!ok) throw std::invalid_argument(schedule + ": invalid " + key + " = " + num(v) + " (must be " + rule + ")");
}
void check_step(int64_t t, const char* schedule) {
  if (t < 0) throw std::invalid_argument(std::string(schedule) + ": negative step " + std::to_string(t));
}

}  // namespace

Schedule constant(double lr) {
  check_lr(lr, "constant");
  return [lr](int64_t t) {
    check_step(t, "constant");
    return lr;
  };
}

Schedule step_decay(double lr, int64_t step_size, double gamma) {
  check_lr(lr, "step_decay");
  require(step_size > 0, "step_decay", "step_size", double(step_size), "> 0");
  require(gamma > 0 && std::isfinite(gamma), "step_decay", "gamma", gamma, "finite and > 0");
  return [=](int64_t t) {
    check_step(t, "step_decay");
    return lr * std::pow(gamma, double(t / step_size));
  };
}

Schedule exponential(double lr, double gamma) {
  check_lr(lr, "exponential");
  require(gamma > 0 && std::isfinite(gamma), "exponential", "gamma", gamma, "finite and > 0");
  return [=](int64_t t) {
    check_step(t, "exponential");
    return lr * std::pow(gamma, double(t));
  };
}

Schedule cosine(double lr, int64_t period, double min_lr) {
  check_lr(lr, "cosine");
  require(period > 0, "cosine", "period", double(period), "> 0");
  require(min_lr >= 0 && min_lr <= lr, "cosine", "min_lr", min_lr, "in [0, lr]");
  return [=](int64_t t) {
    check_step(t, "cosine");
    const double x = double(std::min(t, period)) / double(period);
    return min_lr + (lr - min_lr) * (1 + std::cos(std::numbers::pi * x)) / 2;
  };
}

Schedule linear_warmup(int64_t warmup, Schedule after) {
  require(warmup >= 0, "linear_warmup", "warmup", double(warmup), ">= 0");
  if (!after) throw std::invalid_argument("linear_warmup: the following schedule is empty");
  return [warmup, after = std::move(after)](int64_t t) {
    check_step(t, "linear_warmup");
    if (t < warmup) return after(0) * double(t + 1) / double(warmup);
    return after(t - warmup);
  };
}

// ---- ReduceOnPlateau ----------------------------------------------------------------------------

ReduceOnPlateau::ReduceOnPlateau(double lr, PlateauOptions o)
    : o_(o),
      lr_(lr),
      best_(o.maximize ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity()) {
  const std::string w = "ReduceOnPlateau";
  check_lr(lr, w);
  require(o.factor > 0 && o.factor < 1, w, "factor", o.factor, "in (0, 1)");
  require(o.patience >= 0, w, "patience", double(o.patience), ">= 0");
  require(o.threshold >= 0 && std::isfinite(o.threshold), w, "threshold", o.threshold, "finite and >= 0");
  require(o.cooldown >= 0, w, "cooldown", double(o.cooldown), ">= 0");
  require(o.min_lr >= 0 && std::isfinite(o.min_lr), w, "min_lr", o.min_lr, "finite and >= 0");
  require(o.eps >= 0 && std::isfinite(o.eps), w, "eps", o.eps, "finite and >= 0");
}

// min, relative: a < best·(1 − threshold); min, absolute: a < best − threshold (mirrored for max).
// A NaN metric is never better.
bool ReduceOnPlateau::better(double a) const {
  if (o_.maximize) return o_.relative ? a > best_ * (1 + o_.threshold) : a > best_ + o_.threshold;
  return o_.relative ? a < best_ * (1 - o_.threshold) : a < best_ - o_.threshold;
}

// As torch: a better metric resets the bad count; during cooldown bad metrics are not counted;
// more than `patience` bad metrics in a row reduce the lr and start the cooldown.
double ReduceOnPlateau::step(double metric) {
  if (better(metric)) {
    best_ = metric;
    bad_ = 0;
  } else {
    ++bad_;
  }
  if (cooldown_left_ > 0) {
    --cooldown_left_;
    bad_ = 0;
  }
  if (bad_ > o_.patience) {
    const double reduced = std::max(lr_ * o_.factor, o_.min_lr);
    if (lr_ - reduced > o_.eps) {
      lr_ = reduced;
      ++reductions_;
    }
    cooldown_left_ = o_.cooldown;
    bad_ = 0;
  }
  return lr_;
}

void ReduceOnPlateau::save(nn::Checkpoint& ckpt, const std::string& prefix) const {
  ckpt.texts[prefix + "lr"] = double_to_hex(lr_);
  ckpt.texts[prefix + "best"] = double_to_hex(best_);
  ckpt.texts[prefix + "bad"] = std::to_string(bad_);
  ckpt.texts[prefix + "cooldown"] = std::to_string(cooldown_left_);
  ckpt.texts[prefix + "reductions"] = std::to_string(reductions_);
}

void ReduceOnPlateau::load(const nn::Checkpoint& ckpt, const std::string& prefix) {
  auto text = [&](const char* key) -> const std::string& {
    auto it = ckpt.texts.find(prefix + key);
    if (it == ckpt.texts.end())
      throw std::invalid_argument("ReduceOnPlateau: checkpoint has no '" + prefix + key + "'");
    return it->second;
  };
  auto count = [&](const char* key) {
    const std::string& s = text(key);
    int64_t v = -1;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0)
      throw std::invalid_argument("ReduceOnPlateau: '" + prefix + key + "' = '" + s + "' is not a count");
    return v;
  };
  const double lr = hex_to_double(text("lr"), "ReduceOnPlateau: " + prefix + "lr");
  const double best = hex_to_double(text("best"), "ReduceOnPlateau: " + prefix + "best");
  const int64_t bad = count("bad"), cooldown = count("cooldown"), reductions = count("reductions");
  check_lr(lr, "ReduceOnPlateau: " + prefix + "lr");
  lr_ = lr, best_ = best, bad_ = bad, cooldown_left_ = cooldown, reductions_ = reductions;
}

}  // namespace seqgrad::optim
