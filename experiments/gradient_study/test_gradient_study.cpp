// Experiment 1 (experiments/gradient_study/): the scalar study against the closed form, the spectral
// construction, the network and clipping studies on tiny sizes (and that training learns), bitwise
// determinism across repeated runs and thread counts, units and saved models read back bit for bit,
// the verdicts over seeds, and the program's --resume and --eval-only on a tiny run.
#include <tbb/global_control.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "autograd/jacobian.h"
#include "experiments/common/io.h"
#include "experiments/gradient_study/parts.h"
#include "experiments/gradient_study/program.h"
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

TEST_CASE("jacobian spectrum: T ordered values per cell, the trained parameters used, Elman bounded by W_hh",
          "[experiments][gradients]") {
  const g::NetworkConfig cfg = tiny_network();
  g::NetworkConfig untrained = cfg;
  untrained.train_steps = 0;
  for (auto kind : {g::CellKind::rnn, g::CellKind::lstm, g::CellKind::gru}) {
    INFO(g::cell_name(kind));
    const g::NetworkResult r = g::network_study(kind, cfg);
    const g::JacobianSpectrum init = g::jacobian_spectrum(kind, cfg),
                              trained = g::jacobian_spectrum(kind, cfg, r.parameters);
    for (const g::JacobianSpectrum* s : {&init, &trained}) {
      REQUIRE(s->sigma_max.size() == size_t(cfg.T));
      REQUIRE(s->sigma_median.size() == size_t(cfg.T));
      REQUIRE(s->sigma_min.size() == size_t(cfg.T));
      for (size_t t = 0; t < s->sigma_max.size(); ++t)
        REQUIRE((s->sigma_max[t] >= s->sigma_median[t] && s->sigma_median[t] >= s->sigma_min[t] &&
                 s->sigma_min[t] >= 0 && std::isfinite(s->sigma_max[t])));
      REQUIRE(std::isfinite(s->geomean_max()));
    }
    REQUIRE(trained.sigma_max != init.sigma_max);
    // Without parameters: exactly the network network_study starts from.
    REQUIRE(same_bits(g::jacobian_spectrum(kind, cfg, g::network_study(kind, untrained).parameters).sigma_max,
                      init.sigma_max));
    if (kind == g::CellKind::rnn) {  // J_t = diag(1 − h_t²)·W_hh with 0 < 1 − h² <= 1: σ_max(J_t) <= σ_max(W_hh)
      const double bound = singular_values(r.parameters.at("cell.weight_hh")).front();
      for (double s : trained.sigma_max) REQUIRE(s <= bound * (1 + 1e-12));
    }
  }
  seqgrad::testing::require_thread_invariant([&] { return g::jacobian_spectrum(g::CellKind::lstm, cfg).sigma_min; });
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

TEST_CASE("network study: training lowers the loss well below its start", "[experiments][gradients]") {
  g::NetworkConfig cfg = tiny_network();
  cfg.T = 10;
  cfg.hidden = 16;
  cfg.batch = 32;
  cfg.train_steps = 150;
  for (auto kind : {g::CellKind::lstm, g::CellKind::gru}) {
    const g::NetworkResult r = g::network_study(kind, cfg);
    const auto mean = [&](size_t from, size_t to) {
      double s = 0;
      for (size_t i = from; i < to; ++i) s += r.train_loss[i];
      return s / double(to - from);
    };
    INFO(g::cell_name(kind) << ": first 15 steps " << mean(0, 15) << ", last 15 " << mean(135, 150));
    REQUIRE(mean(135, 150) < 0.5 * mean(0, 15));  // batch MSE halved at least
    REQUIRE(r.trained.loss < 0.5 * r.init.loss);  // and on the held-out probe batch
  }
}

TEST_CASE("gradient study units and saved models read back bit for bit", "[experiments][gradients]") {
  const g::NetworkConfig cfg = tiny_network();
  const g::NetworkResult r = g::network_study(g::CellKind::gru, cfg);
  const g::NetworkResult back = g::network_from_unit(nn::decode_checkpoint(nn::encode_checkpoint(g::network_unit(r))));
  REQUIRE(back.cell == r.cell);
  REQUIRE(back.num_parameters == r.num_parameters);
  REQUIRE(same_bits(back.train_loss, r.train_loss));
  REQUIRE(same_bits(back.trained.h_norms, r.trained.h_norms));
  REQUIRE(same_bits({back.init.loss, back.trained.loss}, {r.init.loss, r.trained.loss}));
  REQUIRE(back.parameters.size() == r.parameters.size());

  nn::Checkpoint saved;  // as Run::save_models writes it
  for (const auto& [name, value] : r.parameters) saved.tensors["param/gru_seed3/" + name] = value;
  const g::GradientProfile again = g::probe_saved(g::CellKind::gru, cfg, saved, "param/gru_seed3/");
  REQUIRE(same_bits(again.h_norms, r.trained.h_norms));
  REQUIRE_THROWS_AS(g::probe_saved(g::CellKind::lstm, cfg, saved, "param/gru_seed3/"), std::invalid_argument);

  g::ClippingConfig clip;
  clip.T = 10, clip.hidden = 8, clip.batch = 4, clip.steps = 5;
  const g::ClippingRun c = g::clipping_study({1.0}, clip).front();
  const g::ClippingRun c2 = g::clipping_from_unit(g::clipping_unit(c));
  REQUIRE(same_bits(c2.loss, c.loss));
  REQUIRE(same_bits(c2.grad_norms, c.grad_norms));
  REQUIRE((c2.theta == c.theta && c2.clipped == c.clipped && c2.diverged_at == c.diverged_at));
  REQUIRE(same_bits({c2.final_loss, c2.max_loss, c2.max_grad_norm}, {c.final_loss, c.max_loss, c.max_grad_norm}));
}

namespace {

// A network result whose ratio (init and trained) is `ratio`.
g::NetworkResult with_ratio(g::CellKind cell, double ratio) {
  g::NetworkResult r;
  r.cell = cell;
  r.init.h_norms = r.trained.h_norms = {ratio, 1.0};
  return r;
}

g::NetworkRuns runs_of(const std::vector<double>& rnn, const std::vector<double>& gated) {
  g::NetworkRuns runs;
  for (size_t i = 0; i < rnn.size(); ++i) {
    runs[g::CellKind::rnn].push_back(with_ratio(g::CellKind::rnn, rnn[i]));
    runs[g::CellKind::lstm].push_back(with_ratio(g::CellKind::lstm, gated[i]));
    runs[g::CellKind::gru].push_back(with_ratio(g::CellKind::gru, gated[i]));
  }
  return runs;
}

}  // namespace

TEST_CASE("gradient study verdicts: comparisons need seeds and follow the rule", "[experiments][gradients]") {
  const g::NetworkConfig cfg = tiny_network();
  const auto one = g::network_claims(runs_of({1e-6}, {1e-1}), cfg);
  REQUIRE(one.size() == 2);
  for (const auto& c : one) {
    REQUIRE(c.verdict == "inconclusive");
    REQUIRE(c.measured.find("--seeds") != std::string::npos);
    REQUIRE(c.expected.find(experiments::kVerdictRuleShort) != std::string::npos);
  }
  for (const auto& c : g::network_claims(runs_of({1e-6, 2e-6, 4e-6}, {1e-1, 2e-1, 3e-1}), cfg))
    REQUIRE(c.verdict == "holds");
  for (const auto& c : g::network_claims(runs_of({1e-1, 2e-1, 3e-1}, {1e-6, 2e-6, 4e-6}), cfg))
    REQUIRE(c.verdict == "does not hold");

  g::ClippingRuns clip;
  for (double loss : {1.0, 1.1, 1.2}) {
    g::ClippingRun none, clipped;
    none.final_loss = loss, clipped.theta = 1, clipped.final_loss = loss / 10;
    clip[0].push_back(none), clip[1].push_back(clipped);
  }
  REQUIRE(g::clipping_claims(clip).at(0).verdict == "holds");
  clip[1][0].diverged_at = 3;  // one clipped run diverged: the claim fails whatever the losses
  REQUIRE(g::clipping_claims(clip).at(0).verdict == "does not hold");
}

namespace {

// The program as main() runs it, in-process, on a tiny networks + clipping run in `out`; returns the
// units it trained (not read back).
std::vector<std::string> run_program(const std::string& out, std::vector<std::string> extra) {
  std::vector<std::string> args = {"gradient_study",
                                   "--quick",
                                   "--parts",
                                   "networks,clipping",
                                   "--T",
                                   "6",
                                   "--hidden",
                                   "4",
                                   "--probe-batch",
                                   "4",
                                   "--batch",
                                   "4",
                                   "--train-steps",
                                   "3",
                                   "--clip-T",
                                   "6",
                                   "--clip-hidden",
                                   "4",
                                   "--clip-steps",
                                   "3",
                                   "--seeds",
                                   "2",
                                   "--cells",
                                   "rnn,gru",
                                   "--thetas",
                                   "0,1",
                                   "--out",
                                   out};
  args.insert(args.end(), extra.begin(), extra.end());
  int evaluated = -1;
  const std::vector<std::string> trained = experiments::run_in_process(g::study(), args, &evaluated);
  if (evaluated >= 0) REQUIRE(evaluated == 4);  // --eval-only: 2 cells x 2 seeds
  return trained;
}

}  // namespace

TEST_CASE("gradient study program: --resume trains nothing and writes the same metrics", "[experiments][gradients]") {
  seqgrad::testing::TempDir dir("gradient-study-resume");
  const auto first = run_program(dir.path.string(), {});
  REQUIRE(first.size() == 8);  // networks: 2 cells x 2 seeds; clipping: 2 thetas x 2 seeds
  const std::filesystem::path root = dir.path / "gradient_study";
  const std::string networks = experiments::read_file(root / "networks" / "metrics.json");
  const std::string clipping = experiments::read_file(root / "clipping" / "metrics.json");
  REQUIRE(experiments::read_file(root / "networks" / "metrics" / "cells.csv").find("reset-after") != std::string::npos);
  const std::string spectrum = experiments::read_file(root / "networks" / "metrics" / "jacobian_spectrum.csv");
  REQUIRE(spectrum.starts_with("t,series,cell,seed,stage,sigma_max,sigma_median,sigma_min\n"));
  REQUIRE(std::count(spectrum.begin(), spectrum.end(), '\n') == 1 + 2 * 2 * 2 * 6);  // cells x seeds x stages x T
  REQUIRE(networks.find("gru/seed2/jacobian_sigma_max_geomean_trained") != std::string::npos);

  REQUIRE(run_program(dir.path.string(), {"--resume"}).empty());
  REQUIRE(experiments::read_file(root / "networks" / "metrics.json") == networks);
  REQUIRE(experiments::read_file(root / "clipping" / "metrics.json") == clipping);
  REQUIRE(run_program(dir.path.string(), {}).size() == 8);  // without --resume, everything again
}

TEST_CASE("gradient study program: --eval-only re-measures the saved networks", "[experiments][gradients]") {
  seqgrad::testing::TempDir dir("gradient-study-eval");
  run_program(dir.path.string(), {});
  // Other options on the command line do not matter: the run's own config.ini is used.
  run_program(dir.path.string(), {"--eval-only", "--seed", "9"});
  const std::filesystem::path metrics = dir.path / "gradient_study" / "networks" / "metrics";
  const std::string eval = experiments::read_file(metrics / "eval_gradient_norms.csv");
  const std::string norms = experiments::read_file(metrics / "gradient_norms.csv");
  // Each trained norm the run logged reappears, digit for digit, in the re-measured file.
  size_t lines = 0;
  for (size_t at = norms.find("_trained_"); at != std::string::npos; at = norms.find("_trained_", at + 1), ++lines) {
    const size_t end = norms.find('\n', at), comma = norms.rfind(',', end);
    REQUIRE(eval.find("," + norms.substr(comma + 1, end - comma - 1) + "\n") != std::string::npos);
  }
  REQUIRE(lines == 4 * 6);  // 2 cells x 2 seeds x T = 6
  seqgrad::testing::TempDir empty("gradient-study-none");
  REQUIRE_THROWS_AS(run_program(empty.path.string(), {"--eval-only"}), std::invalid_argument);
}
