// Experiment 1 computations (experiments/common/gradient_study.h): the scalar study against the
// closed form, the spectral construction, the network and clipping studies on tiny sizes, and
// bitwise determinism across repeated runs and thread counts.
#include <tbb/global_control.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "experiments/gradient_study/gradient_study.h"
#include "temp_dir.h"

using namespace seqgrad;
namespace g = seqgrad::gradient_study;

using seqgrad::testing::same_bits;

namespace {

g::NetworkConfig tiny_network() {
  g::NetworkConfig c;
  c.T = 12;
  c.hidden = 8;
  c.batch = 8;
  c.probe_batch = 8;
  c.train_steps = 10;
  c.lr = 1e-2;
  c.seed = 3;
  return c;
}

}  // namespace

TEST_CASE("scalar study: backward gives w^(T-k) for every k", "[experiments][gradients]") {
  const std::vector<double> ws = {0.5, 0.9, 1.0, 1.1};
  const auto curves = g::scalar_study(ws, 50);
  REQUIRE(curves.size() == ws.size());
  for (const auto& c : curves) {
    REQUIRE(c.measured.size() == 51);
    for (int k = 0; k <= 50; ++k) {
      INFO("w = " << c.w << ", k = " << k);
      REQUIRE(c.closed_form[size_t(k)] == std::pow(c.w, 50 - k));
      REQUIRE(std::abs(c.measured[size_t(k)] - c.closed_form[size_t(k)]) <= 1e-12 * c.closed_form[size_t(k)]);
    }
    REQUIRE(c.max_rel_error <= 1e-12);
  }
  // The guide's numbers, measured: 0.9^50 ≈ 0.005 and 1.1^50 ≈ 117.
  REQUIRE(curves[1].measured[0] == Approx(0.00515377520732).epsilon(1e-12));
  REQUIRE(curves[3].measured[0] == Approx(117.390852879695).epsilon(1e-12));
  REQUIRE(curves[2].measured[0] == 1.0);
  REQUIRE_THROWS_AS(g::scalar_study({0.5}, 0), std::invalid_argument);
}

TEST_CASE("spectral construction: rho * orthogonal has spectral radius rho", "[experiments][gradients]") {
  for (double rho : {0.5, 0.9, 1.0, 1.1, 1.5}) {
    Tensor W = g::scaled_orthogonal(16, rho, 7);
    INFO("rho = " << rho);
    REQUIRE(g::spectral_radius(W) == Approx(rho).epsilon(1e-5));
  }
  // General matrices: complex eigenvalues ±2i (a scaled rotation), and a non-normal triangle.
  REQUIRE(g::spectral_radius(Tensor::from({2, 2}, {0, -2, 2, 0}, DType::f64)) == Approx(2.0).epsilon(1e-12));
  REQUIRE(g::spectral_radius(Tensor::from({2, 2}, {0.5, 10, 0, 0.9}, DType::f64), 2000) == Approx(0.9).epsilon(5e-3));
  REQUIRE_THROWS_AS(g::spectral_radius(Tensor::zeros({2, 3})), std::invalid_argument);
}

TEST_CASE("network study: T finite gradient norms per cell, at init and after training", "[experiments][gradients]") {
  const g::NetworkConfig cfg = tiny_network();
  for (auto kind : {g::CellKind::rnn, g::CellKind::lstm, g::CellKind::gru}) {
    const g::NetworkResult r = g::network_study(kind, cfg);
    INFO(g::cell_name(kind));
    REQUIRE(r.init.h_norms.size() == size_t(cfg.T));
    REQUIRE(r.trained.h_norms.size() == size_t(cfg.T));
    REQUIRE(r.train_loss.size() == size_t(cfg.train_steps));
    for (double n : r.init.h_norms) REQUIRE((std::isfinite(n) && n > 0));
    for (double n : r.trained.h_norms) REQUIRE((std::isfinite(n) && n > 0));
    REQUIRE(std::isfinite(r.init.ratio()));
    REQUIRE(std::isfinite(r.trained.loss));
    REQUIRE(g::parse_cell(g::cell_name(kind)) == kind);
  }
  REQUIRE_THROWS_AS(g::parse_cell("transformer"), std::invalid_argument);
}

TEST_CASE("spectral study: gamma lies between 0 and 1, larger rho keeps more gradient", "[experiments][gradients]") {
  const auto points = g::spectral_study({0.5, 1.5}, tiny_network());
  REQUIRE(points.size() == 2);
  for (const auto& p : points) {
    REQUIRE(p.rho_measured == Approx(p.rho_target).epsilon(1e-5));
    REQUIRE((p.gamma > 0 && p.gamma <= 1));
    REQUIRE(p.rho_gamma == Approx(p.rho_measured * p.gamma));
    REQUIRE(p.profile.h_norms.size() == 12);
  }
  REQUIRE(points[1].profile.ratio() > points[0].profile.ratio());
}

TEST_CASE("clipping study: theta = 1 clips in the exploding setting", "[experiments][gradients]") {
  g::ClippingConfig cfg;
  cfg.T = 20;
  cfg.hidden = 16;
  cfg.batch = 8;
  cfg.steps = 20;
  const auto runs = g::clipping_study({0.0, 1.0}, cfg);
  REQUIRE(runs.size() == 2);
  REQUIRE(runs[0].clipped == 0);
  REQUIRE(runs[1].clipped > 0);
  REQUIRE(runs[1].diverged_at == -1);
  REQUIRE(runs[1].loss.size() == 20);
  REQUIRE(runs[1].grad_norms.size() == 20);
  // Same model and data: the first step's loss and pre-clip norm agree whatever θ.
  REQUIRE(runs[0].loss[0] == runs[1].loss[0]);
  REQUIRE(runs[0].grad_norms[0] == runs[1].grad_norms[0]);
  REQUIRE_THROWS_AS(g::clipping_study({-1.0}, cfg), std::invalid_argument);
}

TEST_CASE("gradient study: bitwise identical across runs and thread counts", "[experiments][gradients]") {
  const g::NetworkConfig cfg = tiny_network();
  auto run = [&] {
    std::vector<double> all;
    for (const auto& c : g::scalar_study({0.9, 1.1}, 50)) all.insert(all.end(), c.measured.begin(), c.measured.end());
    for (auto kind : {g::CellKind::rnn, g::CellKind::lstm, g::CellKind::gru}) {
      const g::NetworkResult r = g::network_study(kind, cfg);
      all.insert(all.end(), r.init.h_norms.begin(), r.init.h_norms.end());
      all.insert(all.end(), r.trained.h_norms.begin(), r.trained.h_norms.end());
      all.insert(all.end(), r.train_loss.begin(), r.train_loss.end());
    }
    return all;
  };
  seqgrad::testing::require_thread_invariant(run);
}
