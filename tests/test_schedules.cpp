// Learning-rate schedules: values at chosen steps, ReduceOnPlateau's state machine, bad arguments.
#include <cmath>
#include <limits>

#include "optim/optim.h"
#include "testing.h"

using namespace seqgrad;

// ---- schedules ----------------------------------------------------------------------------------

TEST_CASE("schedules: values at chosen steps", "[optim]") {
  auto c = optim::constant(0.3);
  REQUIRE(c(0) == 0.3);
  REQUIRE(c(1000) == 0.3);

  auto s = optim::step_decay(0.1, 3, 0.5);  // 0.1·0.5^⌊t/3⌋
  REQUIRE(s(0) == 0.1);
  REQUIRE(s(2) == 0.1);
  REQUIRE(s(3) == 0.05);
  REQUIRE(s(7) == Approx(0.025).epsilon(1e-15));

  auto e = optim::exponential(2.0, 0.5);  // 2·0.5^t
  REQUIRE(e(0) == 2.0);
  REQUIRE(e(3) == 0.25);

  auto cs = optim::cosine(1.0, 10);  // (1 + cos(πt/10))/2
  REQUIRE(cs(0) == 1.0);
  REQUIRE(cs(5) == Approx(0.5).margin(1e-15));
  REQUIRE(cs(10) == 0.0);
  REQUIRE(cs(25) == 0.0);  // stays at min_lr after the period
  auto cm = optim::cosine(0.1, 4, 0.01);
  REQUIRE(cm(2) == Approx(0.055).epsilon(1e-14));  // halfway: (lr + min)/2
  REQUIRE(cm(1) == Approx(0.01 + 0.09 * (1 + std::sqrt(0.5)) / 2).epsilon(1e-14));

  // Warm-up ramps to the next schedule's first value, then hands over with its clock at 0.
  auto w = optim::linear_warmup(4, optim::constant(0.2));
  REQUIRE(w(0) == Approx(0.05).epsilon(1e-15));
  REQUIRE(w(1) == Approx(0.1).epsilon(1e-15));
  REQUIRE(w(3) == 0.2);
  REQUIRE(w(100) == 0.2);
  auto wc = optim::linear_warmup(2, optim::cosine(1.0, 4));
  REQUIRE(wc(0) == 0.5);
  REQUIRE(wc(1) == 1.0);
  REQUIRE(wc(2) == 1.0);
  REQUIRE(wc(4) == Approx(0.5).margin(1e-15));
  REQUIRE(wc(6) == 0.0);
  auto ws = optim::linear_warmup(1, optim::step_decay(1.0, 2, 0.1));
  REQUIRE(ws(0) == 1.0);
  REQUIRE(ws(3) == Approx(0.1).epsilon(1e-15));

  // Driving an optimizer: lr of step t+1 is schedule(steps()).
  nn::Parameter p(Tensor::zeros({1}, DType::f64));
  optim::SGD opt({{"p", &p}}, {.lr = 1.0});
  for (int t = 0; t < 5; ++t) {
    p.grad = Tensor::ones({1}, DType::f64);
    opt.set_lr(s(opt.steps()));
    opt.step();
  }
  REQUIRE(p.value.at({0}) == Approx(-(0.1 * 3 + 0.05 * 2)).epsilon(1e-15));

  REQUIRE_THROWS_NAMING(optim::step_decay(0.1, 0, 0.5), "step_decay", "step_size = 0");
  REQUIRE_THROWS_NAMING(optim::exponential(0.1, -1), "exponential", "gamma = -1");
  REQUIRE_THROWS_NAMING(optim::cosine(0.1, 0), "cosine", "period = 0");
  REQUIRE_THROWS_NAMING(optim::cosine(0.1, 5, 0.5), "cosine", "min_lr = 0.5");
  REQUIRE_THROWS_NAMING(optim::constant(-1), "constant", "lr = -1");
  REQUIRE_THROWS_NAMING(optim::linear_warmup(-1, c), "linear_warmup", "warmup = -1");
  REQUIRE_THROWS_NAMING(s(-1), "step_decay", "negative step");
}

TEST_CASE("ReduceOnPlateau: patience, cooldown, min_lr, maximize, exact state", "[optim]") {
  SECTION("patience and cooldown (traced by hand from torch's algorithm)") {
    optim::ReduceOnPlateau r(1.0, {.factor = 0.5, .patience = 2, .cooldown = 1});
    // 10 and 9 improve; then three bad metrics exceed patience 2 -> 0.5 and cooldown 1; the next bad
    // metric is swallowed by the cooldown; three more bad ones -> 0.25.
    const double metrics[] = {10, 9, 9.5, 9.5, 9.5, 9.5, 9.5, 9.5, 9.5};
    const double want[] = {1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25};
    for (int i = 0; i < 9; ++i) {
      INFO("metric " << i);
      REQUIRE(r.step(metrics[i]) == want[i]);
    }
    REQUIRE(r.best() == 9);
    REQUIRE(r.reductions() == 2);
    // The cooldown after the second reduction swallows the next bad metric.
    REQUIRE(r.cooldown_left() == 1);
    r.step(9.5);
    REQUIRE(r.cooldown_left() == 0);
    REQUIRE(r.bad_steps() == 0);
    // An improvement must beat best·(1 − 1e-4) = 8.9991 (relative threshold).
    r.step(8.9999);
    REQUIRE(r.bad_steps() == 1);
    r.step(8.99);
    REQUIRE(r.bad_steps() == 0);
    REQUIRE(r.best() == 8.99);
  }
  SECTION("min_lr, absolute threshold, maximize, NaN") {
    optim::ReduceOnPlateau r(
        1.0, {.maximize = true, .factor = 0.1, .patience = 0, .threshold = 0.5, .relative = false, .min_lr = 0.05});
    REQUIRE(r.step(1.0) == 1.0);                                        // better than −inf
    REQUIRE(r.step(1.4) == 0.1);                                        // not > 1 + 0.5: bad, patience 0 -> reduce
    REQUIRE(r.step(2.0) == 0.1);                                        // better
    REQUIRE(r.step(std::numeric_limits<double>::quiet_NaN()) == 0.05);  // NaN is never better; clamped at min_lr
    REQUIRE(r.step(0.0) == 0.05);                                       // at min_lr: no further change
    REQUIRE(r.reductions() == 2);
  }
  SECTION("save and load continue exactly") {
    optim::PlateauOptions o{.factor = 0.5, .patience = 1, .cooldown = 2};
    optim::ReduceOnPlateau a(0.3, o), b(0.3, o);
    const double metrics[] = {5, 4, 4.5, 4.5, 4.5, 3, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5};
    for (int i = 0; i < 5; ++i) a.step(metrics[i]);
    nn::Checkpoint ck;
    a.save(ck);
    optim::ReduceOnPlateau c(0.3, o);
    c.load(ck);
    for (int i = 0; i < 5; ++i) b.step(metrics[i]);
    for (int i = 5; i < 12; ++i) REQUIRE(c.step(metrics[i]) == b.step(metrics[i]));
    REQUIRE(c.lr() == b.lr());
    REQUIRE(c.reductions() == b.reductions());
  }
  REQUIRE_THROWS_NAMING(optim::ReduceOnPlateau(0.1, {.factor = 1.0}), "ReduceOnPlateau", "factor = 1");
  REQUIRE_THROWS_NAMING(optim::ReduceOnPlateau(0.1, {.patience = -1}), "ReduceOnPlateau", "patience = -1");
  REQUIRE_THROWS_NAMING(optim::ReduceOnPlateau(-0.1), "ReduceOnPlateau", "lr = -0.1");
}
