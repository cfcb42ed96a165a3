// gradient_study — Experiment 1 (issue #5): vanishing and exploding gradients, measured.
// Four run folders under <out>/gradient_study/:
//   scalar/    h_t = w·h_{t−1}: ∂h_T/∂h_k by our backward next to w^(T−k) (log-scale plot per w)
//   networks/  ‖∂L/∂h_k‖ vs k for Elman, LSTM, GRU at init and after training on the adding problem
//   spectral/  Elman with W_hh = ρ·orthogonal: norms vs k per ρ, γ = mean tanh′, ρ·γ, measured factor
//   clipping/  the exploding setting (ρ = 1.5, high SGD lr) without clipping and with θ = 1, 5
// Each run folder has config.ini, env.json, metrics/*.csv, plots/*.png, metrics.json and
// claims.json (the guide's claims with expected, measured and a verdict computed from the numbers,
// written through experiments/common/report.h).
//   gradient_study --quick                        # ≤ 2 min on 2 cores
//   gradient_study --config experiments/gradient_study/full.ini
//   gradient_study --quick --T 10 --train-steps 20 --verify   # the CTest smoke run
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/common/experiment.h"
#include "experiments/gradient_study/gradient_study.h"
#include "experiments/common/claims.h"

using namespace seqgrad;
namespace g = seqgrad::gradient_study;
namespace po = boost::program_options;

namespace {

using experiments::fmt;

// ---- claims (experiments/common/report.h) -------------------------------------------------------

using experiments::Claim;
const char* verdict(bool ok) { return ok ? "holds" : "does not hold"; }

// ---- the parts ---------------------------------------------------------------------------------

std::vector<Claim> scalar_part(const experiments::Program& program, const std::vector<double>& ws, int64_t T) {
  experiments::Run run(program, "scalar");
  const auto curves = g::scalar_study(ws, T);
  auto& csv = run.csv("gradients", {"k", "w", "measured", "closed_form", "rel_error"});
  std::map<std::string, experiments::Value> metrics;
  double worst = 0;
  for (const auto& c : curves) {
    for (int64_t k = 0; k <= T; ++k) {
      const double m = c.measured[size_t(k)], f = c.closed_form[size_t(k)];
      csv.row({k, c.w, m, f, std::abs(m - f) / f});
    }
    metrics["dhT_dh0_w" + fmt(c.w)] = c.measured[0];
    worst = std::max(worst, c.max_rel_error);
  }
  metrics["T"] = T;
  metrics["max_rel_error"] = worst;
  run.plot({.name = "gradients", .csv = "gradients", .x = "k", .y = {"measured"}, .group_by = "w", .log_y = true,
            .title = "|dh_T/dh_k| measured by backward, h_t = w h_{t-1}, T = " + std::to_string(T),
            .x_label = "k", .y_label = "|dh_T/dh_k|"});
  run.finish(metrics);

  std::vector<Claim> claims;
  auto guide = [&](double w, double expected, double tolerance, const std::string& text) {
    for (const auto& c : curves)
      if (c.w == w && T == 50) {
        const double m = c.measured[0];
        const bool ok = std::abs(m - expected) <= tolerance && c.max_rel_error <= 1e-12;
        claims.push_back({text, "≈ " + fmt(expected) + " (closed form " + fmt(w) + "^50 = " + fmt(c.closed_form[0], 6) + ")",
                          fmt(m, 6) + " (by backward; max rel. error vs closed form " + fmt(c.max_rel_error, 2) + ")",
                          verdict(ok)});
      }
  };
  guide(0.9, 0.005, 0.0005, "0.9^50 ≈ 0.005: with w = 0.9 the gradient vanishes over 50 steps");
  guide(1.1, 117, 0.5, "1.1^50 ≈ 117: with w = 1.1 the gradient explodes over 50 steps");
  experiments::write_claims(run, claims);
  for (const auto& c : curves) std::printf("scalar: w = %-4g  dh_%lld/dh_0 = %.6g (closed form %.6g)\n", c.w,
                                           static_cast<long long>(T), c.measured[0], c.closed_form[0]);
  return claims;
}

std::vector<Claim> networks_part(const experiments::Program& program, const std::vector<std::string>& cells,
                                 const g::NetworkConfig& cfg) {
  experiments::Run run(program, "networks");
  auto& norms = run.csv("gradient_norms", {"k", "series", "cell", "stage", "norm"});
  auto& losses = run.csv("train_loss", {"step", "cell", "loss"});
  auto& summary = run.csv("summary", {"cell", "parameters", "ratio_init", "ratio_trained", "loss_init", "loss_trained"});
  std::map<std::string, experiments::Value> metrics;
  std::map<std::string, std::pair<double, double>> ratios;  // cell -> (init, trained)
  std::map<std::string, experiments::Run::NamedTensors> models;  // the trained models, by cell
  for (const std::string& name : cells) {
    g::NetworkConfig c = cfg;
    experiments::Progress progress("networks: " + name, cfg.train_steps);
    c.on_step = [&](int64_t step, double loss) { progress.update(step, loss, cfg.batch); };
    const g::NetworkResult r = g::network_study(g::parse_cell(name), c);
    progress.finish();
    for (auto [stage, profile] : {std::pair{"init", &r.init}, std::pair{"trained", &r.trained}})
      for (size_t k = 0; k < profile->h_norms.size(); ++k)
        norms.row({int64_t(k), name + "_" + stage, name, std::string(stage), profile->h_norms[k]});
    for (size_t s = 0; s < r.train_loss.size(); ++s) losses.row({int64_t(s), name, r.train_loss[s]});
    summary.row({name, r.num_parameters, r.init.ratio(), r.trained.ratio(), r.init.loss, r.trained.loss});
    metrics[name + "/ratio_init"] = r.init.ratio();
    metrics[name + "/ratio_trained"] = r.trained.ratio();
    metrics[name + "/loss_init"] = r.init.loss;
    metrics[name + "/loss_trained"] = r.trained.loss;
    ratios[name] = {r.init.ratio(), r.trained.ratio()};
    models[name] = r.parameters;
    std::printf("networks: %-5s |dL/dh_0|/|dL/dh_T-1| = %.3g at init, %.3g after %lld steps (probe MSE %.4f -> %.4f)\n",
                name.c_str(), r.init.ratio(), r.trained.ratio(), static_cast<long long>(cfg.train_steps), r.init.loss,
                r.trained.loss);
  }
  run.plot({.name = "gradient_norms", .csv = "gradient_norms", .x = "k", .y = {"norm"}, .group_by = "series",
            .log_y = true, .title = "||dL/dh_k|| on the adding problem, T = " + std::to_string(cfg.T),
            .x_label = "k", .y_label = "||dL/dh_k||"});
  run.plot({.name = "train_loss", .csv = "train_loss", .x = "step", .y = {"loss"}, .group_by = "cell", .log_y = true,
            .title = "training loss (batch MSE), adding problem T = " + std::to_string(cfg.T), .x_label = "step",
            .y_label = "MSE"});
  metrics["T"] = cfg.T;
  metrics["train_steps"] = cfg.train_steps;
  run.save_models(models);
  run.finish(metrics);

  std::vector<Claim> claims;
  if (ratios.count("elman") && ratios.count("lstm") && ratios.count("gru")) {
    const auto [e0, e1] = ratios["elman"];
    const auto [l0, l1] = ratios["lstm"];
    const auto [g0, g1] = ratios["gru"];
    const bool at_init = l0 > e0 && g0 > e0, trained = l1 > e1 && g1 > e1;
    claims.push_back({"LSTM/GRU keep gradients over long ranges better than the vanilla RNN",
                      "||dL/dh_0|| / ||dL/dh_T-1|| larger for LSTM and GRU than for the Elman RNN (T = " +
                          std::to_string(cfg.T) + ")",
                      "init: elman " + fmt(e0, 3) + ", lstm " + fmt(l0, 3) + ", gru " + fmt(g0, 3) + "; after " +
                          std::to_string(cfg.train_steps) + " steps: elman " + fmt(e1, 3) + ", lstm " + fmt(l1, 3) +
                          ", gru " + fmt(g1, 3),
                      at_init && trained ? "holds" : at_init || trained ? "inconclusive" : "does not hold"});
  }
  experiments::write_claims(run, claims);
  return claims;
}

std::vector<Claim> spectral_part(const experiments::Program& program, const std::vector<double>& rhos,
                                 const g::NetworkConfig& cfg) {
  experiments::Run run(program, "spectral");
  const auto points = g::spectral_study(rhos, cfg);
  auto& norms = run.csv("gradient_norms", {"k", "rho", "norm"});
  auto& summary = run.csv("summary", {"rho", "rho_measured", "gamma", "rho_gamma", "per_step_factor", "ratio"});
  std::map<std::string, experiments::Value> metrics;
  std::string measured;
  bool sufficient = true, necessary = true;  // Pascanu et al.: ρ < 1 ⇒ vanishing; exploding ⇒ ρ > 1
  int far_mismatch = 0, near_mismatch = 0;   // factor and ρ·γ on different sides of 1
  double worst = 0;                          // max |factor / (ρ·γ) − 1|
  for (const auto& p : points) {
    for (size_t k = 0; k < p.profile.h_norms.size(); ++k) norms.row({int64_t(k), p.rho_target, p.profile.h_norms[k]});
    summary.row({p.rho_target, p.rho_measured, p.gamma, p.rho_gamma, p.per_step_factor, p.profile.ratio()});
    const std::string key = "rho" + fmt(p.rho_target);
    metrics[key + "/rho_measured"] = p.rho_measured;
    metrics[key + "/gamma"] = p.gamma;
    metrics[key + "/rho_gamma"] = p.rho_gamma;
    metrics[key + "/per_step_factor"] = p.per_step_factor;
    metrics[key + "/ratio"] = p.profile.ratio();
    if (p.rho_measured < 1 && !(p.per_step_factor < 1)) sufficient = false;
    if (p.per_step_factor > 1 && !(p.rho_measured > 1)) necessary = false;
    if ((p.rho_gamma < 1) != (p.per_step_factor < 1)) ++(std::abs(std::log(p.rho_gamma)) < 0.05 ? near_mismatch : far_mismatch);
    worst = std::max(worst, std::abs(p.per_step_factor / p.rho_gamma - 1));
    measured += (measured.empty() ? "" : "; ") + std::string("rho ") + fmt(p.rho_target) + ": rho*gamma " +
                fmt(p.rho_gamma, 3) + ", factor " + fmt(p.per_step_factor, 3);
    std::printf("spectral: rho = %-4g (measured %.6f)  gamma = %.4f  rho*gamma = %.4f  measured factor/step = %.4f  ratio = %.3g\n",
                p.rho_target, p.rho_measured, p.gamma, p.rho_gamma, p.per_step_factor, p.profile.ratio());
  }
  run.plot({.name = "gradient_norms", .csv = "gradient_norms", .x = "k", .y = {"norm"}, .group_by = "rho",
            .log_y = true, .title = "Elman, W_hh = rho * orthogonal: ||dL/dh_k|| at init, T = " + std::to_string(cfg.T),
            .x_label = "k", .y_label = "||dL/dh_k||"});
  metrics["T"] = cfg.T;
  run.finish(metrics);
  // ρ·γ uses the MEAN tanh′, so near 1 its side of 1 is within its own approximation error: a
  // disagreement there (|log ρ·γ| < 0.05) makes the second claim inconclusive rather than false.
  std::vector<Claim> claims{
      {"rho < 1 is sufficient for vanishing gradients, rho > 1 necessary for exploding ones (Pascanu et al. 2013)",
       "measured factor per step (||dL/dh_0|| / ||dL/dh_T-1||)^(1/(T-1)) < 1 for every rho < 1, and > 1 only for rho > 1",
       measured, verdict(sufficient && necessary)},
      {"the gradient changes by about rho*gamma per step: it vanishes when rho*gamma < 1 and explodes when > 1",
       "measured factor per step on the same side of 1 as rho*gamma",
       measured + "; max |factor/(rho*gamma) - 1| = " + fmt(worst, 3),
       far_mismatch ? "does not hold" : near_mismatch ? "inconclusive" : "holds"}};
  experiments::write_claims(run, claims);
  return claims;
}

std::vector<Claim> clipping_part(const experiments::Program& program, const std::vector<double>& thetas,
                                 const g::ClippingConfig& cfg) {
  experiments::Run run(program, "clipping");
  std::vector<g::ClippingRun> runs;
  for (double theta : thetas) {  // one θ at a time, for the progress line
    g::ClippingConfig c = cfg;
    experiments::Progress progress("clipping: theta " + fmt(theta), cfg.steps);
    c.on_step = [&](int64_t step, double loss) { progress.update(step, loss, cfg.batch); };
    runs.push_back(g::clipping_study({theta}, c).front());
    progress.finish();
  }
  auto label = [](double theta) { return theta > 0 ? "theta_" + fmt(theta) : std::string("none"); };
  auto& loss = run.csv("loss", {"step", "clip", "loss"});
  auto& gnorm = run.csv("grad_norms", {"step", "clip", "norm"});
  auto& summary = run.csv("summary", {"clip", "clipped", "nonfinite", "diverged_at", "final_loss", "max_loss", "max_grad_norm"});
  std::map<std::string, experiments::Value> metrics;
  for (const auto& r : runs) {
    const std::string l = label(r.theta);
    for (size_t s = 0; s < r.loss.size(); ++s) loss.row({int64_t(s), l, r.loss[s]});
    for (size_t s = 0; s < r.grad_norms.size(); ++s)
      if (std::isfinite(r.grad_norms[s])) gnorm.row({int64_t(s), l, r.grad_norms[s]});
    summary.row({l, r.clipped, r.nonfinite, r.diverged_at, r.final_loss, r.max_loss, r.max_grad_norm});
    metrics[l + "/clipped"] = r.clipped;
    metrics[l + "/nonfinite"] = r.nonfinite;
    metrics[l + "/diverged_at"] = r.diverged_at;
    metrics[l + "/final_loss"] = std::isfinite(r.final_loss) ? experiments::Value(r.final_loss) : experiments::Value(std::string("inf"));
    metrics[l + "/max_grad_norm"] = r.max_grad_norm;
    std::printf("clipping: %-9s clipped %lld/%zu  nonfinite %lld  diverged at %lld  final loss %.4g  max loss %.4g  max norm %.4g\n",
                l.c_str(), static_cast<long long>(r.clipped), r.grad_norms.size(), static_cast<long long>(r.nonfinite),
                static_cast<long long>(r.diverged_at), r.final_loss, r.max_loss, r.max_grad_norm);
  }
  run.plot({.name = "loss", .csv = "loss", .x = "step", .y = {"loss"}, .group_by = "clip", .log_y = true,
            .title = "Elman rho = " + fmt(cfg.rho) + ", SGD lr = " + fmt(cfg.lr) + ": loss with and without clipping",
            .x_label = "step", .y_label = "batch MSE"});
  run.plot({.name = "grad_norms", .csv = "grad_norms", .x = "step", .y = {"norm"}, .group_by = "clip", .log_y = true,
            .title = "pre-clip global gradient norm", .x_label = "step", .y_label = "||g||"});
  metrics["rho"] = cfg.rho;
  metrics["lr"] = cfg.lr;
  metrics["steps"] = cfg.steps;
  run.finish(metrics);

  // Stabilised: no clipped run diverged, and each ends at a lower loss than the unclipped run
  // (or the unclipped run diverged).
  std::vector<Claim> claims;
  const g::ClippingRun* none = nullptr;
  for (const auto& r : runs)
    if (r.theta == 0) none = &r;
  if (none) {
    bool ok = true, any = false;
    std::string measured = "none: final loss " + fmt(none->final_loss) + ", max norm " + fmt(none->max_grad_norm) +
                           (none->diverged_at >= 0 ? ", diverged at step " + std::to_string(none->diverged_at) : "");
    for (const auto& r : runs)
      if (r.theta > 0) {
        any = true;
        ok = ok && r.diverged_at < 0 && r.final_loss < none->final_loss;
        measured += "; theta " + fmt(r.theta) + ": final loss " + fmt(r.final_loss) + ", clipped " +
                    std::to_string(r.clipped) + "/" + std::to_string(r.grad_norms.size()) + " steps";
      }
    if (any)
      claims.push_back({"clipping stabilises training in the exploding regime",
                        "with clipping: no divergence and a lower final loss (mean of the last 10% of steps) than without",
                        measured, verdict(ok)});
  }
  experiments::write_claims(run, claims);
  return claims;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // result lines appear as they come, also in logs
  return experiments::run_main([&]() -> int {
    experiments::Program program("gradient_study", "Experiment 1: vanishing and exploding gradients (scalar, networks, spectral radius, clipping)");
    // The option table: full-run value, then the --quick value where a smoke run differs.
    program.option<std::string>("parts", "scalar,networks,spectral,clipping", "parts to run (comma-separated)");
    program.option<int64_t>("scalar-T", 50, "scalar study: steps T");
    program.option<std::string>("ws", "0.5,0.9,1.0,1.1", "scalar study: the w values");
    program.option<int64_t>("T", 100, 50, "networks/spectral: adding-problem length T");
    program.option<int64_t>("hidden", 64, 32, "networks/spectral: hidden units");
    program.option<int64_t>("batch", 32, "networks: training batch");
    program.option<int64_t>("probe-batch", 128, 64, "networks/spectral: held-out batch for the norms");
    program.option<int64_t>("train-steps", 2000, 300, "networks: Adam steps");
    program.option<double>("lr", 2e-3, "networks: Adam learning rate");
    program.option<double>("forget-bias", 1.0, "networks: LSTM forget-gate bias");
    program.option<std::string>("cells", "elman,lstm,gru", "networks: cells");
    program.option<std::string>("rhos", "0.5,0.9,1.0,1.1,1.5", "spectral: radii of W_hh");
    program.option<int64_t>("clip-T", 50, "clipping: adding-problem length");
    program.option<int64_t>("clip-hidden", 32, "clipping: hidden units");
    program.option<int64_t>("clip-steps", 600, 200, "clipping: SGD steps");
    program.option<double>("clip-rho", 1.5, "clipping: spectral radius of W_hh");
    program.option<double>("clip-lr", 0.1, "clipping: SGD learning rate");
    program.option<std::string>("thetas", "0,1,5", "clipping: max norms (0 = no clipping)");
    program.flag("verify", "afterwards, check that every output exists and parses (exit 2 if not)");
    if (!program.parse(argc, argv)) return 0;

    const std::vector<std::string> part_list = experiments::parse_name_list(
        "parts", program.get<std::string>("parts"), {"scalar", "networks", "spectral", "clipping"});
    const std::set<std::string> parts(part_list.begin(), part_list.end());
    const int64_t scalar_T = program.get<int64_t>("scalar-T");
    experiments::require_positive("scalar-T", double(scalar_T));

    g::NetworkConfig net;
    net.T = program.get<int64_t>("T");
    net.hidden = program.get<int64_t>("hidden");
    net.batch = program.get<int64_t>("batch");
    net.probe_batch = program.get<int64_t>("probe-batch");
    net.train_steps = program.get<int64_t>("train-steps");
    net.lr = program.get<double>("lr");
    net.forget_bias = program.get<double>("forget-bias");
    net.seed = program.seed();
    for (auto [name, v] : std::initializer_list<std::pair<const char*, int64_t>>{
             {"T", net.T}, {"hidden", net.hidden}, {"batch", net.batch}, {"probe-batch", net.probe_batch}})
      experiments::require_positive(name, double(v));
    if (net.T < 2) throw std::invalid_argument("--T: must be >= 2");
    experiments::require_non_negative("train-steps", double(net.train_steps));
    experiments::require_positive("lr", net.lr);
    std::vector<std::string> cells;
    {
      std::stringstream ss(program.get<std::string>("cells"));
      for (std::string c; std::getline(ss, c, ',');) {
        try {
          g::parse_cell(c);
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument(std::string("--cells: ") + e.what());
        }
        cells.push_back(c);
      }
    }

    g::ClippingConfig clip;
    clip.T = program.get<int64_t>("clip-T");
    clip.hidden = program.get<int64_t>("clip-hidden");
    clip.steps = program.get<int64_t>("clip-steps");
    clip.rho = program.get<double>("clip-rho");
    clip.lr = program.get<double>("clip-lr");
    clip.seed = program.seed();
    if (clip.T < 2) throw std::invalid_argument("--clip-T: must be >= 2");
    experiments::require_positive("clip-hidden", double(clip.hidden));
    experiments::require_positive("clip-steps", double(clip.steps));
    experiments::require_positive("clip-lr", clip.lr);
    experiments::require_non_negative("clip-rho", clip.rho);

    const std::vector<double> ws = experiments::parse_number_list("ws", program.get<std::string>("ws"));
    const std::vector<double> rhos = experiments::parse_number_list("rhos", program.get<std::string>("rhos"));
    const std::vector<double> thetas = experiments::parse_number_list("thetas", program.get<std::string>("thetas"));
    for (double rho : rhos) experiments::require_non_negative("rhos", rho);  // spectral radii
    for (double theta : thetas) experiments::require_non_negative("thetas", theta);  // max norms, 0 = no clipping

    std::vector<Claim> claims;
    std::vector<std::pair<std::string, std::vector<std::string>>> written;
    auto add = [&](std::vector<Claim> c) { claims.insert(claims.end(), c.begin(), c.end()); };
    if (parts.count("scalar")) add(scalar_part(program, ws, scalar_T)), written.push_back({"scalar", {"gradients"}});
    if (parts.count("networks"))
      add(networks_part(program, cells, net)), written.push_back({"networks", {"gradient_norms", "train_loss"}});
    if (parts.count("spectral")) add(spectral_part(program, rhos, net)), written.push_back({"spectral", {"gradient_norms"}});
    if (parts.count("clipping"))
      add(clipping_part(program, thetas, clip)), written.push_back({"clipping", {"loss", "grad_norms"}});
    for (const Claim& c : claims) std::printf("claim: %s\n  expected: %s\n  measured: %s\n  verdict:  %s\n",
                                              c.claim.c_str(), c.expected.c_str(), c.measured.c_str(), c.verdict.c_str());
    if (program.get<bool>("verify")) return experiments::verify_runs(program.out(), written) > 0 ? 0 : 2;
    return 0;
  });
}
