// Optimisers and clipping (schedules: test_schedules.cpp). Every optimiser's three-step trajectory is compared against
// a reference written out in plain double arithmetic from torch.optim's documented algorithms (plus
// a few values worked out by hand); resuming from a checkpoint must continue bitwise identically.
#include <oneapi/tbb/global_control.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>

#include "nn/io/checkpoint.h"
#include "nn/layers.h"
#include "optim/optim.h"
#include "testing.h"

using namespace seqgrad;
using optim::NamedParameters;

namespace {

// ---- the three-step problem ---------------------------------------------------------------------
// One parameter p of 3 elements; the gradient is g_i = a_i·p_i + c_i (a quadratic bowl), so the
// gradient of each step depends on where the previous step went.
constexpr std::array<double, 3> kP0{1.0, -2.0, 0.5};
constexpr std::array<double, 3> kA{0.5, 1.5, 2.0};
constexpr std::array<double, 3> kC{0.3, -0.1, 0.2};
double grad_of(double p, int i) { return kA[size_t(i)] * p + kC[size_t(i)]; }

using Trajectory = std::array<std::array<double, 3>, 3>;  // p after steps 1, 2, 3

// Runs three steps of the optimiser made by `make` on a fresh parameter of `dtype`.
Trajectory run_three(DType dtype,
                     const std::function<std::unique_ptr<optim::Optimizer>(const NamedParameters&)>& make) {
  nn::Parameter p(Tensor::from({3}, {kP0[0], kP0[1], kP0[2]}, dtype));
  auto opt = make({{"p", &p}});
  Trajectory out{};
  for (int t = 0; t < 3; ++t) {
    std::vector<double> g(3);
    for (int i = 0; i < 3; ++i) g[size_t(i)] = grad_of(p.value.at({i}), i);
    p.grad = Tensor::from({3}, g, dtype);
    opt->step();
    for (int i = 0; i < 3; ++i) out[size_t(t)][size_t(i)] = p.value.at({i});
  }
  return out;
}

void require_close(const Trajectory& got, const Trajectory& want, DType dtype) {
  const double rel = dtype == DType::f64 ? 1e-13 : 2e-6;
  for (int t = 0; t < 3; ++t)
    for (int i = 0; i < 3; ++i) {
      INFO("dtype " << dtype_name(dtype) << ", step " << t + 1 << ", element " << i);
      REQUIRE(got[size_t(t)][size_t(i)] == Approx(want[size_t(t)][size_t(i)]).epsilon(rel).margin(rel));
    }
}

template <typename Opt, typename Options>
void check_trajectory(const Options& o, const Trajectory& want) {
  for (DType dtype : {DType::f64, DType::f32})
    require_close(run_three(dtype, [&](const NamedParameters& ps) { return std::make_unique<Opt>(ps, o); }), want,
                  dtype);
}

// ---- references: torch.optim's documented algorithms, element by element, in doubles ------------

// SGD: g ← g + λp; b ← g (t = 1) else μb + (1 − τ)g; g ← g + μb (Nesterov) or b; p ← p − γg.
Trajectory ref_sgd(double lr, double mu, double damp, double wd, bool nesterov) {
  Trajectory out{};
  std::array<double, 3> p = kP0, b{};
  for (int t = 1; t <= 3; ++t) {
    for (int i = 0; i < 3; ++i) {
      double g = grad_of(p[size_t(i)], i);
      if (wd != 0) g = g + wd * p[size_t(i)];
      if (mu != 0) {
        b[size_t(i)] = t == 1 ? g : mu * b[size_t(i)] + (1 - damp) * g;
        g = nesterov ? g + mu * b[size_t(i)] : b[size_t(i)];
      }
      p[size_t(i)] = p[size_t(i)] - lr * g;
    }
    out[size_t(t - 1)] = p;
  }
  return out;
}

// Adam / AdamW: (AdamW: p ← p(1 − γλ); Adam: g ← g + λp); m ← β1m + (1 − β1)g; v ← β2v + (1 − β2)g²;
// m̂ = m/(1 − β1^t); v̂ = v/(1 − β2^t) (AMSGrad: v_max ← max(v_max, v), v̂ = v_max/(1 − β2^t));
// p ← p − γ m̂/(√v̂ + ε).
Trajectory ref_adam(double lr, double b1, double b2, double eps, double wd, bool amsgrad, bool decoupled) {
  Trajectory out{};
  std::array<double, 3> p = kP0, m{}, v{}, vmax{};
  for (int t = 1; t <= 3; ++t) {
    for (int i = 0; i < 3; ++i) {
      double& pi = p[size_t(i)];
      double g = grad_of(pi, i);
      if (decoupled) pi = pi * (1 - lr * wd);
      else if (wd != 0) g = g + wd * pi;
      m[size_t(i)] = b1 * m[size_t(i)] + (1 - b1) * g;
      v[size_t(i)] = b2 * v[size_t(i)] + (1 - b2) * g * g;
      double second = v[size_t(i)];
      if (amsgrad) second = vmax[size_t(i)] = std::max(vmax[size_t(i)], v[size_t(i)]);
      const double m_hat = m[size_t(i)] / (1 - std::pow(b1, t));
      const double v_hat = second / (1 - std::pow(b2, t));
      pi = pi - lr * m_hat / (std::sqrt(v_hat) + eps);
    }
    out[size_t(t - 1)] = p;
  }
  return out;
}

// RMSprop: g ← g + λp; v ← αv + (1 − α)g²; ṽ = v, centered: ḡ ← αḡ + (1 − α)g, ṽ = v − ḡ²;
// momentum: b ← μb + g/(√ṽ + ε), p ← p − γb; else p ← p − γ g/(√ṽ + ε).
Trajectory ref_rmsprop(double lr, double alpha, double eps, double wd, double mu, bool centered) {
  Trajectory out{};
  std::array<double, 3> p = kP0, v{}, gavg{}, b{};
  for (int t = 1; t <= 3; ++t) {
    for (int i = 0; i < 3; ++i) {
      double& pi = p[size_t(i)];
      double g = grad_of(pi, i);
      if (wd != 0) g = g + wd * pi;
      v[size_t(i)] = alpha * v[size_t(i)] + (1 - alpha) * g * g;
      double vt = v[size_t(i)];
      if (centered) {
        gavg[size_t(i)] = alpha * gavg[size_t(i)] + (1 - alpha) * g;
        vt = vt - gavg[size_t(i)] * gavg[size_t(i)];
      }
      if (mu > 0) {
        b[size_t(i)] = mu * b[size_t(i)] + g / (std::sqrt(vt) + eps);
        pi = pi - lr * b[size_t(i)];
      } else {
        pi = pi - lr * g / (std::sqrt(vt) + eps);
      }
    }
    out[size_t(t - 1)] = p;
  }
  return out;
}

// Adagrad: γ̃ = γ/(1 + (t − 1)η); g ← g + λp; s ← s + g² (s₀ = initial value); p ← p − γ̃ g/(√s + ε).
Trajectory ref_adagrad(double lr, double lr_decay, double wd, double init, double eps) {
  Trajectory out{};
  std::array<double, 3> p = kP0, s{init, init, init};
  for (int t = 1; t <= 3; ++t) {
    const double clr = lr / (1 + (t - 1) * lr_decay);
    for (int i = 0; i < 3; ++i) {
      double& pi = p[size_t(i)];
      double g = grad_of(pi, i);
      if (wd != 0) g = g + wd * pi;
      s[size_t(i)] = s[size_t(i)] + g * g;
      pi = pi - clr * g / (std::sqrt(s[size_t(i)]) + eps);
    }
    out[size_t(t - 1)] = p;
  }
  return out;
}

// ---- a tiny model for resume and training tests -------------------------------------------------

struct Tiny : nn::Module {
  Tiny(uint64_t seed) : rng(seed), l1(3, 8, rng), l2(8, 1, rng) {
    register_module("l1", l1);
    register_module("l2", l2);
  }
  Var operator()(const Var& x) { return l2(tanh(l1(x))); }
  Rng rng;
  nn::Linear l1, l2;
};

// One training step on a fresh batch drawn from `data`: loss, backward, clip, schedule, update.
void train_step(Tiny& model, optim::Optimizer& opt, Rng& data, optim::ClipStats& stats,
                const optim::Schedule& schedule) {
  Tape tape;
  Tensor x = Tensor::normal({16, 3}, data);
  std::vector<double> y(16);
  for (int b = 0; b < 16; ++b) y[size_t(b)] = std::sin(x.at({b, 0})) + 0.5 * x.at({b, 1}) * x.at({b, 2});
  model.zero_grad();
  Var loss = mse(model(tape.constant(x)), tape.constant(Tensor::from({16, 1}, y)));
  tape.backward(loss);
  optim::clip_grad_norm(model.named_parameters(), 0.5, 2.0, true, &stats);
  opt.set_lr(schedule(opt.steps()));
  opt.step();
}

using MakeOpt = std::function<std::unique_ptr<optim::Optimizer>(const NamedParameters&)>;

std::vector<std::pair<std::string, MakeOpt>> all_optimizers() {
  auto biases = [](const NamedParameters& ps) {
    return optim::select(ps, [](const std::string& n) { return n.ends_with("bias"); });
  };
  return {
      {"SGD nesterov",
       [=](const NamedParameters& ps) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::SGD>(
             ps, optim::SgdOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true},
             std::vector<optim::ParamGroup>{{biases(ps), {{"weight_decay", 0.0}}}});
       }},
      {"Adam amsgrad",
       [](const NamedParameters& ps) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::Adam>(ps,
                                              optim::AdamOptions{.lr = 0.01, .weight_decay = 1e-3, .amsgrad = true});
       }},
      {"AdamW",
       [=](const NamedParameters& ps) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::AdamW>(
             ps, optim::AdamWOptions{.lr = 0.01},
             std::vector<optim::ParamGroup>{{biases(ps), {{"weight_decay", 0.0}, {"lr", 0.02}}}});
       }},
      {"RMSprop centered momentum",
       [](const NamedParameters& ps) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::RMSprop>(ps,
                                                 optim::RmspropOptions{.lr = 0.01, .momentum = 0.5, .centered = true});
       }},
      {"Adagrad",
       [](const NamedParameters& ps) -> std::unique_ptr<optim::Optimizer> {
         return std::make_unique<optim::Adagrad>(
             ps, optim::AdagradOptions{.lr = 0.05, .lr_decay = 0.01, .initial_accumulator_value = 0.1});
       }},
  };
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), size_t(a.numel()) * dtype_size(a.dtype())) == 0;
}

}  // namespace

// ---- trajectories ---------------------------------------------------------------------------------

TEST_CASE("SGD follows torch.optim.SGD for three steps", "[optim]") {
  SECTION("plain") {
    // By hand, element 0: g = 0.5·1 + 0.3 = 0.8 -> p = 1 − 0.1·0.8 = 0.92.
    REQUIRE(run_three(DType::f64, [](auto& ps) {
              return std::make_unique<optim::SGD>(ps, optim::SgdOptions{.lr = 0.1});
            })[0][0] == Approx(0.92).epsilon(1e-15));
    check_trajectory<optim::SGD>(optim::SgdOptions{.lr = 0.1}, ref_sgd(0.1, 0, 0, 0, false));
  }
  SECTION("momentum: the first step's buffer is the gradient, undampened") {
    // By hand, element 0: step 1 b = 0.8, p = 0.92; step 2 g = 0.76, b = 0.9·0.8 + 0.5·0.76 = 1.1,
    // p = 0.92 − 0.11 = 0.81.
    auto tr = run_three(DType::f64, [](auto& ps) {
      return std::make_unique<optim::SGD>(ps, optim::SgdOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.5});
    });
    REQUIRE(tr[1][0] == Approx(0.81).epsilon(1e-14));
    check_trajectory<optim::SGD>(optim::SgdOptions{.lr = 0.1, .momentum = 0.9}, ref_sgd(0.1, 0.9, 0, 0, false));
    check_trajectory<optim::SGD>(optim::SgdOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.5},
                                 ref_sgd(0.1, 0.9, 0.5, 0, false));
  }
  SECTION("nesterov") {
    check_trajectory<optim::SGD>(optim::SgdOptions{.lr = 0.1, .momentum = 0.8, .nesterov = true},
                                 ref_sgd(0.1, 0.8, 0, 0, true));
  }
  SECTION("weight decay") {
    check_trajectory<optim::SGD>(optim::SgdOptions{.lr = 0.1, .momentum = 0.5, .weight_decay = 0.2},
                                 ref_sgd(0.1, 0.5, 0, 0.2, false));
  }
}

TEST_CASE("Adam and AdamW follow torch.optim for three steps", "[optim]") {
  SECTION("Adam") {
    // By hand: the first step moves each element by lr·g/(|g| + eps) ≈ lr against the gradient.
    auto tr = run_three(DType::f64,
                        [](auto& ps) { return std::make_unique<optim::Adam>(ps, optim::AdamOptions{.lr = 0.1}); });
    REQUIRE(tr[0][0] == Approx(0.9).margin(1e-8));
    REQUIRE(tr[0][1] == Approx(-1.9).margin(1e-8));  // g = −3.1
    check_trajectory<optim::Adam>(optim::AdamOptions{.lr = 0.1}, ref_adam(0.1, 0.9, 0.999, 1e-8, 0, false, false));
    check_trajectory<optim::Adam>(optim::AdamOptions{.lr = 0.05, .beta1 = 0.5, .beta2 = 0.9, .eps = 0.1},
                                  ref_adam(0.05, 0.5, 0.9, 0.1, 0, false, false));
  }
  SECTION("Adam with L2 weight decay") {
    check_trajectory<optim::Adam>(optim::AdamOptions{.lr = 0.1, .weight_decay = 0.3},
                                  ref_adam(0.1, 0.9, 0.999, 1e-8, 0.3, false, false));
  }
  SECTION("amsgrad") {
    // β2 = 0.5 makes v shrink on the bowl, so the running maximum matters.
    check_trajectory<optim::Adam>(optim::AdamOptions{.lr = 0.3, .beta1 = 0.8, .beta2 = 0.5, .amsgrad = true},
                                  ref_adam(0.3, 0.8, 0.5, 1e-8, 0, true, false));
    auto plain = run_three(DType::f64, [](auto& ps) {
      return std::make_unique<optim::Adam>(ps, optim::AdamOptions{.lr = 0.3, .beta1 = 0.8, .beta2 = 0.5});
    });
    auto ams = run_three(DType::f64, [](auto& ps) {
      return std::make_unique<optim::Adam>(ps,
                                           optim::AdamOptions{.lr = 0.3, .beta1 = 0.8, .beta2 = 0.5, .amsgrad = true});
    });
    REQUIRE(plain[2][2] != ams[2][2]);
  }
  SECTION("AdamW decays the parameter, not the gradient") {
    check_trajectory<optim::AdamW>(optim::AdamWOptions{.lr = 0.1, .weight_decay = 0.3},
                                   ref_adam(0.1, 0.9, 0.999, 1e-8, 0.3, false, true));
    check_trajectory<optim::AdamW>(optim::AdamWOptions{.lr = 0.1, .weight_decay = 0.3, .amsgrad = true},
                                   ref_adam(0.1, 0.9, 0.999, 1e-8, 0.3, true, true));
    // By hand, step 1, element 0: p = 1·(1 − 0.1·0.3) − 0.1·0.8/(0.8 + 1e-8) ≈ 0.97 − 0.1 = 0.87.
    auto tr = run_three(DType::f64, [](auto& ps) {
      return std::make_unique<optim::AdamW>(ps, optim::AdamWOptions{.lr = 0.1, .weight_decay = 0.3});
    });
    REQUIRE(tr[0][0] == Approx(0.87).margin(1e-8));
    REQUIRE(optim::AdamWOptions{}.weight_decay == 1e-2);
  }
}

TEST_CASE("RMSprop follows torch.optim.RMSprop for three steps", "[optim]") {
  // By hand, step 1 of plain RMSprop: v = 0.01·g², p −= lr·g/(0.1·|g| + eps) ≈ 10·lr against g.
  auto tr = run_three(DType::f64,
                      [](auto& ps) { return std::make_unique<optim::RMSprop>(ps, optim::RmspropOptions{.lr = 0.01}); });
  REQUIRE(tr[0][0] == Approx(0.9).margin(1e-6));
  check_trajectory<optim::RMSprop>(optim::RmspropOptions{.lr = 0.01}, ref_rmsprop(0.01, 0.99, 1e-8, 0, 0, false));
  check_trajectory<optim::RMSprop>(optim::RmspropOptions{.lr = 0.01, .alpha = 0.9, .weight_decay = 0.1},
                                   ref_rmsprop(0.01, 0.9, 1e-8, 0.1, 0, false));
  check_trajectory<optim::RMSprop>(optim::RmspropOptions{.lr = 0.01, .alpha = 0.9, .momentum = 0.7},
                                   ref_rmsprop(0.01, 0.9, 1e-8, 0, 0.7, false));
  // Centered: the variance v − ḡ² can be tiny, so eps is larger here to keep the test well conditioned.
  check_trajectory<optim::RMSprop>(optim::RmspropOptions{.lr = 0.01, .alpha = 0.9, .eps = 1e-3, .centered = true},
                                   ref_rmsprop(0.01, 0.9, 1e-3, 0, 0, true));
  check_trajectory<optim::RMSprop>(
      optim::RmspropOptions{.lr = 0.01, .alpha = 0.9, .eps = 1e-3, .momentum = 0.5, .centered = true},
      ref_rmsprop(0.01, 0.9, 1e-3, 0, 0.5, true));
}

TEST_CASE("Adagrad follows torch.optim.Adagrad for three steps", "[optim]") {
  // By hand, step 1, element 0: s = 0.64, p = 1 − 0.1·0.8/(0.8 + 1e-10) ≈ 0.9.
  auto tr = run_three(DType::f64,
                      [](auto& ps) { return std::make_unique<optim::Adagrad>(ps, optim::AdagradOptions{.lr = 0.1}); });
  REQUIRE(tr[0][0] == Approx(0.9).margin(1e-9));
  check_trajectory<optim::Adagrad>(optim::AdagradOptions{.lr = 0.1}, ref_adagrad(0.1, 0, 0, 0, 1e-10));
  check_trajectory<optim::Adagrad>(optim::AdagradOptions{.lr = 0.1, .lr_decay = 0.5},
                                   ref_adagrad(0.1, 0.5, 0, 0, 1e-10));
  check_trajectory<optim::Adagrad>(
      optim::AdagradOptions{
          .lr = 0.1, .lr_decay = 0.25, .weight_decay = 0.2, .initial_accumulator_value = 0.5, .eps = 1e-3},
      ref_adagrad(0.1, 0.25, 0.2, 0.5, 1e-3));
}

// ---- groups and learning rate -------------------------------------------------------------------

TEST_CASE("optimizer: parameter groups override options, e.g. no weight decay on biases", "[optim]") {
  nn::Parameter w(Tensor::from({2}, {1.0, -1.0}, DType::f64)), b(Tensor::from({2}, {0.5, 2.0}, DType::f64));
  NamedParameters ps{{"fc.weight", &w}, {"fc.bias", &b}};
  auto biases = optim::select(ps, [](const std::string& n) { return n.ends_with("bias"); });
  REQUIRE(biases == std::vector<std::string>{"fc.bias"});
  optim::SGD opt(ps, {.lr = 0.1, .weight_decay = 0.5}, {{biases, {{"weight_decay", 0.0}, {"lr", 0.2}}}});
  REQUIRE(opt.num_groups() == 2);
  REQUIRE(opt.group_of("fc.weight") == 0);
  REQUIRE(opt.group_of("fc.bias") == 1);
  REQUIRE(opt.options(1).weight_decay == 0.0);
  w.grad = Tensor::from({2}, {0.1, 0.2}, DType::f64);
  b.grad = Tensor::from({2}, {0.3, -0.4}, DType::f64);
  opt.step();
  REQUIRE(w.value.at({0}) == 1.0 - 0.1 * (0.1 + 0.5 * 1.0));
  REQUIRE(w.value.at({1}) == -1.0 - 0.1 * (0.2 + 0.5 * -1.0));
  REQUIRE(b.value.at({0}) == 0.5 - 0.2 * 0.3);
  REQUIRE(b.value.at({1}) == 2.0 - 0.2 * -0.4);

  // set_lr sets the base rate; the bias group keeps its 2x ratio.
  opt.set_lr(0.05);
  REQUIRE(opt.lr() == 0.05);
  REQUIRE(opt.group_lr(0) == 0.05);
  REQUIRE(opt.group_lr(1) == Approx(0.1).epsilon(1e-15));

  // Parameters without a gradient are skipped; zero_grad zeroes in place.
  nn::Parameter frozen(Tensor::from({1}, {3.0}, DType::f64));
  optim::Adam adam({{"frozen", &frozen}, {"fc.weight", &w}}, {.lr = 0.1});
  adam.step();
  REQUIRE(frozen.value.at({0}) == 3.0);
  REQUIRE(adam.steps() == 1);
  Tensor g = w.grad;
  adam.zero_grad();
  REQUIRE(w.grad.shares_storage(g));
  REQUIRE(w.grad.at({0}) == 0.0);
  REQUIRE(frozen.grad.at({0}) == 0.0);
}

TEST_CASE("AdamW group without decay matches Adam on that parameter", "[optim]") {
  for (DType dtype : {DType::f32, DType::f64}) {
    nn::Parameter w(Tensor::from({3}, {kP0[0], kP0[1], kP0[2]}, dtype)), b(w.value.clone()), ref(w.value.clone());
    optim::AdamW adamw({{"w", &w}, {"b", &b}}, {.lr = 0.1, .weight_decay = 0.5}, {{{"b"}, {{"weight_decay", 0}}}});
    optim::Adam adam({{"ref", &ref}}, {.lr = 0.1});
    for (int t = 0; t < 3; ++t) {
      for (nn::Parameter* p : {&w, &b, &ref}) {
        std::vector<double> g(3);
        for (int i = 0; i < 3; ++i) g[size_t(i)] = grad_of(p->value.at({i}), i);
        p->grad = Tensor::from({3}, g, dtype);
      }
      adamw.step();
      adam.step();
    }
    REQUIRE(bitwise_equal(b.value, ref.value));
    REQUIRE(!bitwise_equal(w.value, ref.value));
  }
}

// ---- errors -------------------------------------------------------------------------------------

TEST_CASE("optimizer: bad options throw naming the optimizer, the option and its value", "[optim]") {
  nn::Parameter w(Tensor::zeros({2})), b(Tensor::zeros({2}));
  NamedParameters ps{{"w", &w}, {"b", &b}};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_NAMING((optim::SGD(ps, {.lr = -0.1})), "SGD", "lr = -0.1");
  REQUIRE_THROWS_NAMING((optim::Adam(ps, {.lr = nan})), "Adam", "lr = nan");
  REQUIRE_THROWS_NAMING((optim::SGD(ps, {.lr = 0.1, .momentum = 1.0})), "SGD", "momentum = 1", "[0, 1)");
  REQUIRE_THROWS_NAMING((optim::SGD(ps, {.lr = 0.1, .momentum = -0.5})), "SGD", "momentum = -0.5");
  REQUIRE_THROWS_NAMING((optim::RMSprop(ps, {.momentum = 1.5})), "RMSprop", "momentum = 1.5");
  REQUIRE_THROWS_NAMING((optim::Adam(ps, {.beta1 = 1.0})), "Adam", "beta1 = 1");
  REQUIRE_THROWS_NAMING((optim::AdamW(ps, {.beta2 = -0.1})), "AdamW", "beta2 = -0.1");
  REQUIRE_THROWS_NAMING((optim::Adam(ps, {.eps = 0.0})), "Adam", "eps = 0");
  REQUIRE_THROWS_NAMING((optim::RMSprop(ps, {.eps = -1e-8})), "RMSprop", "eps = -1e-08");
  REQUIRE_THROWS_NAMING((optim::Adagrad(ps, {.eps = 0.0})), "Adagrad", "eps = 0");
  REQUIRE_THROWS_NAMING((optim::Adagrad(ps, {.lr_decay = -1})), "Adagrad", "lr_decay = -1");
  REQUIRE_THROWS_NAMING((optim::Adagrad(ps, {.initial_accumulator_value = -1})), "Adagrad",
                        "initial_accumulator_value = -1");
  REQUIRE_THROWS_NAMING((optim::SGD(ps, {.weight_decay = -1})), "SGD", "weight_decay = -1");
  REQUIRE_THROWS_NAMING((optim::SGD(ps, {.lr = 0.1, .nesterov = true})), "SGD", "nesterov", "momentum = 0");
  REQUIRE_THROWS_NAMING((optim::SGD(ps, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true})), "SGD",
                        "nesterov", "dampening = 0.1");
  // Groups: an unknown parameter, an unknown option, a bad value, a parameter in two groups.
  REQUIRE_THROWS_NAMING((optim::SGD(ps, {}, {{{"bais"}, {}}})), "SGD", "unknown parameter 'bais'");
  REQUIRE_THROWS_NAMING((optim::Adam(ps, {}, {{{"b"}, {{"wieght_decay", 0.5}}}})), "Adam",
                        "unknown option 'wieght_decay' = 0.5");
  REQUIRE_THROWS_NAMING((optim::Adam(ps, {}, {{{"b"}, {{"beta2", 2.0}}}})), "Adam", "group 1", "beta2 = 2");
  REQUIRE_THROWS_NAMING((optim::Adam(ps, {}, {{{"b"}, {{"amsgrad", 0.5}}}})), "Adam", "amsgrad = 0.5");
  REQUIRE_THROWS_NAMING((optim::SGD(ps, {}, {{{"b"}, {}}, {{"b"}, {}}})), "SGD", "'b'", "groups 1 and 2");
  REQUIRE_THROWS_NAMING((optim::SGD({{"w", &w}, {"w", &b}})), "SGD", "'w'", "twice");
  REQUIRE_THROWS_NAMING((optim::SGD({{"w", &w}, {"w2", &w}})), "SGD", "'w2'");
  // set_lr and a gradient of the wrong shape (which must not move any parameter).
  optim::SGD opt(ps, {.lr = 0.1});
  REQUIRE_THROWS_NAMING(opt.set_lr(-1), "SGD", "lr = -1");
  REQUIRE_THROWS_NAMING(opt.set_lr(std::numeric_limits<double>::infinity()), "SGD", "lr = inf");
  w.grad = Tensor::ones({2});
  b.grad = Tensor::ones({3});
  REQUIRE_THROWS_NAMING(opt.step(), "SGD", "'b'", "(3)");
  REQUIRE(w.value.at({0}) == 0.0);
}

// ---- clipping -----------------------------------------------------------------------------------

TEST_CASE("clip_grad_norm: global norm, exact rescaling, no-op below the threshold, stats", "[optim]") {
  nn::Parameter a(Tensor::zeros({2}, DType::f64)), b(Tensor::zeros({1}, DType::f64)),
      none(Tensor::zeros({4}, DType::f64));
  NamedParameters ps{{"a", &a}, {"b", &b}, {"none", &none}};  // `none` has no gradient: ignored
  auto set = [&] {
    a.grad = Tensor::from({2}, {3.0, 4.0}, DType::f64);
    b.grad = Tensor::from({1}, {-12.0}, DType::f64);
  };
  optim::ClipStats stats;
  set();
  REQUIRE(optim::grad_norm(ps) == 13.0);  // √(9 + 16 + 144), as if concatenated
  REQUIRE(optim::grad_norm(ps, 1.0) == 19.0);
  REQUIRE(optim::grad_norm(ps, optim::kInfNorm) == 12.0);
  REQUIRE(optim::grad_norm(ps, 3.0) == Approx(std::cbrt(27.0 + 64.0 + 1728.0)).epsilon(1e-15));

  // Below the threshold: returned norm, gradients untouched.
  REQUIRE(optim::clip_grad_norm(ps, 20.0, 2.0, false, &stats) == 13.0);
  REQUIRE(a.grad.at({0}) == 3.0);
  REQUIRE(b.grad.at({0}) == -12.0);

  // Above: every gradient times max_norm / (norm + 1e-6).
  REQUIRE(optim::clip_grad_norm(ps, 6.5, 2.0, false, &stats) == 13.0);
  const double coef = 6.5 / (13.0 + 1e-6);
  REQUIRE(a.grad.at({0}) == 3.0 * coef);
  REQUIRE(a.grad.at({1}) == 4.0 * coef);
  REQUIRE(b.grad.at({0}) == -12.0 * coef);
  REQUIRE(optim::grad_norm(ps) == Approx(6.5).epsilon(1e-6));

  // Infinity norm.
  set();
  REQUIRE(optim::clip_grad_norm(ps, 6.0, optim::kInfNorm, false, &stats) == 12.0);
  REQUIRE(b.grad.at({0}) == -12.0 * (6.0 / (12.0 + 1e-6)));

  // Non-finite: throws naming the first bad parameter, or (without the flag) leaves gradients alone.
  set();
  b.grad.set({0}, std::numeric_limits<double>::quiet_NaN());
  REQUIRE_THROWS_NAMING(optim::clip_grad_norm(ps, 1.0, 2.0, true, &stats), "clip_grad_norm", "nan", "'b'");
  a.grad.set({1}, std::numeric_limits<double>::infinity());
  REQUIRE_THROWS_NAMING(optim::clip_grad_norm(ps, 1.0, 2.0, true), "clip_grad_norm", "'a'");
  REQUIRE(std::isnan(optim::clip_grad_norm(ps, 1.0, 2.0, false, &stats)));
  REQUIRE(a.grad.at({0}) == 3.0);

  REQUIRE(stats.calls == 5);
  REQUIRE(stats.clipped == 2);
  REQUIRE(stats.nonfinite == 2);
  REQUIRE(stats.clip_fraction() == 0.4);
  REQUIRE(stats.norms.size() == 5);
  REQUIRE(stats.norms[0] == 13.0);
  REQUIRE(stats.norms[2] == 12.0);

  // Stats save and load exactly.
  nn::Checkpoint ck;
  stats.save(ck);
  optim::ClipStats back;
  back.load(ck);
  REQUIRE(back.calls == 5);
  REQUIRE(back.clipped == 2);
  REQUIRE(back.nonfinite == 2);
  REQUIRE(back.norms.size() == 5);
  REQUIRE(std::memcmp(back.norms.data(), stats.norms.data(), 5 * sizeof(double)) == 0);

  REQUIRE_THROWS_NAMING(optim::clip_grad_norm(ps, -1.0), "clip_grad_norm", "max_norm = -1");
  REQUIRE_THROWS_NAMING(optim::clip_grad_norm(ps, 1.0, 0.0), "norm_type = 0");
}

TEST_CASE("clip_grad_value clamps each element", "[optim]") {
  for (DType dtype : {DType::f32, DType::f64}) {
    nn::Parameter p(Tensor::zeros({5}, dtype));
    p.grad = Tensor::from({5}, {-3.0, 0.5, 7.0, -1.0, std::numeric_limits<double>::quiet_NaN()}, dtype);
    optim::clip_grad_value({{"p", &p}}, 1.0);
    REQUIRE(p.grad.at({0}) == -1.0);
    REQUIRE(p.grad.at({1}) == 0.5);
    REQUIRE(p.grad.at({2}) == 1.0);
    REQUIRE(p.grad.at({3}) == -1.0);
    REQUIRE(std::isnan(p.grad.at({4})));
    REQUIRE_THROWS_NAMING(optim::clip_grad_value({{"p", &p}}, -1.0), "clip_grad_value", "clip = -1");
  }
}

TEST_CASE("clipping and updates are bitwise identical at 1 and 2 threads", "[optim]") {
  auto run = [](int threads) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, size_t(threads));
    Rng rng(5);
    nn::Parameter w(Tensor::normal({300, 700}, rng)), b(Tensor::normal({70001}, rng));
    NamedParameters ps{{"w", &w}, {"b", &b}};
    optim::Adam opt(ps, {.lr = 0.01, .weight_decay = 0.1});
    double norm = 0;
    for (int t = 0; t < 2; ++t) {
      w.grad = Tensor::normal({300, 700}, rng, 0, 3);
      b.grad = Tensor::normal({70001}, rng, 0, 3);
      norm = optim::clip_grad_norm(ps, 1.0);
      opt.step();
    }
    return std::make_tuple(norm, w.value, b.value);
  };
  auto [n1, w1, b1] = run(1);
  auto [n2, w2, b2] = run(2);
  REQUIRE(std::memcmp(&n1, &n2, sizeof n1) == 0);
  REQUIRE(bitwise_equal(w1, w2));
  REQUIRE(bitwise_equal(b1, b2));
}

// ---- state and resume ---------------------------------------------------------------------------

TEST_CASE("optimizer state: a resumed run continues bitwise identically", "[optim]") {
  constexpr int N = 10;
  const optim::Schedule schedule = optim::linear_warmup(3, optim::cosine(1.0, 8, 0.1));
  for (const auto& [label, make] : all_optimizers()) {
    INFO(label);
    // Uninterrupted.
    Tiny straight(1);
    auto opt = make(straight.named_parameters());
    Rng data(42);
    optim::ClipStats stats;
    for (int t = 0; t < N; ++t) train_step(straight, *opt, data, stats, schedule);

    // N/2 steps, save everything, throw it all away.
    nn::Checkpoint ck;
    {
      Tiny first(1);
      auto o1 = make(first.named_parameters());
      Rng d1(42);
      optim::ClipStats s1;
      for (int t = 0; t < N / 2; ++t) train_step(first, *o1, d1, s1, schedule);
      nn::put_module(ck, first);
      o1->save_state(ck);
      nn::put_rng(ck, "rng/data", d1);
      s1.save(ck);
    }
    REQUIRE(ck.texts.count("optim/step/l1.weight"));
    REQUIRE(ck.texts.at("optim/steps") == std::to_string(N / 2));

    // Fresh objects (other seeds: everything must come from the checkpoint), load, N/2 more.
    // Loaded via a file too, for one optimiser.
    if (label == "Adam amsgrad") {
      const auto path = (std::filesystem::temp_directory_path() / "seqgrad_test_optim_resume.ckpt").string();
      nn::save_checkpoint(path, ck);
      ck = nn::load_checkpoint(path);
      std::filesystem::remove(path);
    }
    Tiny second(999);
    auto o2 = make(second.named_parameters());
    Rng d2(7);
    optim::ClipStats s2;
    nn::get_module(ck, second);
    o2->load_state(ck);
    nn::get_rng(ck, "rng/data", d2);
    s2.load(ck);
    REQUIRE(o2->steps() == N / 2);
    for (int t = 0; t < N / 2; ++t) train_step(second, *o2, d2, s2, schedule);

    auto p1 = straight.named_parameters(), p2 = second.named_parameters();
    REQUIRE(p1.size() == p2.size());
    for (size_t i = 0; i < p1.size(); ++i) {
      INFO(p1[i].first);
      REQUIRE(same_bits(p1[i].second->value, p2[i].second->value));
    }
    REQUIRE(s2.norms.size() == size_t(N));
    REQUIRE(std::memcmp(s2.norms.data(), stats.norms.data(), N * sizeof(double)) == 0);
    REQUIRE(o2->lr() == opt->lr());
    // The run did move and did clip sometimes (otherwise the comparison proves little).
    REQUIRE(stats.clipped > 0);
  }
}

TEST_CASE("optimizer state: load is strict and all-or-nothing", "[optim]") {
  nn::Parameter w(Tensor::ones({2, 2})), b(Tensor::ones({2}));
  NamedParameters ps{{"w", &w}, {"b", &b}};
  optim::Adam adam(ps, {.lr = 0.1});
  w.grad = Tensor::ones({2, 2});
  b.grad = Tensor::ones({2});
  adam.step();
  nn::Checkpoint ck;
  adam.save_state(ck);
  REQUIRE(ck.tensors.count("optim/exp_avg/w"));
  REQUIRE(ck.tensors.count("optim/exp_avg_sq/b"));
  REQUIRE(ck.texts.at("optim/type") == "Adam");
  REQUIRE(ck.texts.at("optim/lr") == optim::double_to_hex(0.1));
  REQUIRE(optim::hex_to_double(ck.texts.at("optim/lr"), "x") == 0.1);
  // The saved state is a snapshot, not a view of the live moments.
  Tensor saved = ck.tensors.at("optim/exp_avg/w").clone();
  adam.step();
  REQUIRE(bitwise_equal(saved, ck.tensors.at("optim/exp_avg/w")));

  optim::SGD sgd(ps, {.lr = 0.1, .momentum = 0.9});
  REQUIRE_THROWS_NAMING(sgd.load_state(ck), "SGD", "Adam");
  optim::Adam ams(ps, {.lr = 0.1, .amsgrad = true});
  REQUIRE_THROWS_NAMING(ams.load_state(ck), "Adam", "optim/max_exp_avg_sq/w");
  {
    nn::Checkpoint bad = ck;
    bad.tensors["optim/exp_avg/w"] = Tensor::zeros({4});
    optim::Adam fresh(ps, {.lr = 0.5});
    REQUIRE_THROWS_NAMING(fresh.load_state(bad), "Adam", "optim/exp_avg/w", "(4)", "(2, 2)");
    REQUIRE(fresh.lr() == 0.5);  // nothing applied
    REQUIRE(fresh.steps() == 0);
  }
  {
    nn::Checkpoint bad = ck;
    bad.tensors["optim/exp_avg/ghost"] = Tensor::zeros({2});
    optim::Adam fresh(ps);
    REQUIRE_THROWS_NAMING(fresh.load_state(bad), "Adam", "unexpected", "optim/exp_avg/ghost");
  }
  {
    nn::Checkpoint bad = ck;
    bad.texts["optim/lr"] = "0.1";
    optim::Adam fresh(ps);
    REQUIRE_THROWS_NAMING(fresh.load_state(bad), "optim/lr", "hex");
  }
  {
    nn::Checkpoint bad = ck;
    bad.tensors["optim/exp_avg_sq/w"] = Tensor::zeros({2, 2}, DType::f64);
    optim::Adam fresh(ps);
    REQUIRE_THROWS_NAMING(fresh.load_state(bad), "optim/exp_avg_sq/w", "f64");
  }
  // Another prefix: two optimisers in one checkpoint.
  nn::Checkpoint two;
  adam.save_state(two, "optim_d/");
  sgd.save_state(two, "optim_g/");
  optim::Adam again(ps);
  again.load_state(two, "optim_d/");
  REQUIRE(again.steps() == 2);
}

// ---- training sanity ----------------------------------------------------------------------------

TEST_CASE("Adam fits a small linear regression", "[optim]") {
  Rng rng(3);
  nn::Linear model(2, 1, rng);
  Tensor x = Tensor::normal({64, 2}, rng);
  std::vector<double> y(64);
  for (int i = 0; i < 64; ++i) y[size_t(i)] = 2.0 * x.at({i, 0}) - 3.0 * x.at({i, 1}) + 0.5;
  Tensor target = Tensor::from({64, 1}, y);
  optim::Adam opt(model.named_parameters(), {.lr = 0.05});
  double loss = 0;
  Tape tape;
  for (int t = 0; t < 400; ++t) {
    tape.reset();
    model.zero_grad();
    Var l = mse(model(tape.constant(x)), tape.constant(target));
    tape.backward(l);
    loss = l.value().item();
    opt.step();
  }
  REQUIRE(loss < 1e-4);
  REQUIRE(model.weight.value.at({0, 0}) == Approx(2.0).margin(1e-2));
  REQUIRE(model.weight.value.at({0, 1}) == Approx(-3.0).margin(1e-2));
  REQUIRE(model.bias.value.at({0}) == Approx(0.5).margin(1e-2));
}
