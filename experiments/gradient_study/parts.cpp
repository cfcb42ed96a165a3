// The four parts of gradient_study: each computes (gradient_study.cpp), logs CSVs, plots, saves
// metrics.json and the claims (verdicts.cpp) in its run folder. Trainings are units of work
// (sweep.h): divided across MPI ranks when there are several, read back by --resume, and every
// result is taken from its unit checkpoint, so any rank count and any resume writes the same bits.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "experiments/gradient_study/parts.h"

namespace seqgrad::gradient_study {

namespace {

using experiments::fmt;
using Metrics = std::map<std::string, experiments::Value>;
using experiments::Run;

std::string seed_text(uint64_t seed) { return "seed" + std::to_string(seed); }

// metrics/cells.csv: the form each cell of the part is built in (cells.h cell_form), for the report.
void write_cells(experiments::Run& run, const std::vector<CellKind>& cells) {
  auto& csv = run.csv("cells", {"cell", "form"});
  for (CellKind cell : cells) csv.row({std::string(cell_name(cell)), experiments::cell_form(cell)});
}

// Writes the part's claims to claims.json and returns them.
std::vector<Claim> finish_claims(const experiments::Run& run, std::vector<Claim> claims) {
  experiments::write_claims(run, claims);
  return claims;
}

// A training as a unit of work (sweep.h): train(cfg) with a progress line over `steps`, kept as
// to_unit(result).
template <typename Config, typename Train, typename ToUnit>
experiments::Unit unit(const std::string& key, double cost, Config cfg, int64_t steps, Train train, ToUnit to_unit) {
  return {key, cost, [=]() {
            experiments::Progress progress(key, steps);
            Config c = cfg;
            c.on_step = [&](int64_t step, double loss) { progress.update(step, loss, c.batch); };
            auto r = train(c);
            progress.finish();
            return to_unit(r);
          }};
}

// ---- networks -----------------------------------------------------------------------------------

// One training of `cell` at cfg.seed; its cost: steps × T × the cell's weight blocks × hidden².
experiments::Unit network_training(CellKind cell, const NetworkConfig& cfg) {
  const std::string key = "networks_" + std::string(cell_name(cell)) + "_" + seed_text(cfg.seed);
  const double cost = double(cfg.train_steps * cfg.T) * experiments::cell_cost(cell) * double(cfg.hidden * cfg.hidden);
  const auto train = [cell](const NetworkConfig& c) { return network_study(cell, c); };
  return unit(key, cost, cfg, cfg.train_steps, train, network_unit);
}

// The networks part's CSVs.
struct NetworkLogs {
  experiments::CsvLog &norms, &losses, &summary;
};
NetworkLogs network_logs(experiments::Run& run) {
  return {
      run.csv("gradient_norms", {"k", "series", "cell", "seed", "stage", "norm"}),
      run.csv("train_loss", {"step", "series", "cell", "seed", "loss"}),
      run.csv("summary", {"cell", "seed", "parameters", "ratio_init", "ratio_trained", "loss_init", "loss_trained"})};
}

// One network's rows in the part's CSVs and metrics, and its line on stdout.
void log_network(const NetworkLogs& logs, Metrics& metrics, const NetworkResult& r, uint64_t seed, int64_t steps) {
  const std::string cell = cell_name(r.cell), key = cell + "/" + seed_text(seed);
  for (auto [stage, profile] : {std::pair{"init", &r.init}, std::pair{"trained", &r.trained}})
    for (size_t k = 0; k < profile->h_norms.size(); ++k)
      logs.norms.row({int64_t(k), cell + "_" + stage + "_" + seed_text(seed), cell, int64_t(seed), std::string(stage),
                      profile->h_norms[k]});
  for (size_t s = 0; s < r.train_loss.size(); ++s)
    logs.losses.row({int64_t(s), cell + "_" + seed_text(seed), cell, int64_t(seed), r.train_loss[s]});
  logs.summary.row(
      {cell, int64_t(seed), r.num_parameters, r.init.ratio(), r.trained.ratio(), r.init.loss, r.trained.loss});
  metrics[key + "/ratio_init"] = r.init.ratio();
  metrics[key + "/ratio_trained"] = r.trained.ratio();
  metrics[key + "/loss_init"] = r.init.loss;
  metrics[key + "/loss_trained"] = r.trained.loss;
  std::printf(
      "networks: %-4s seed %llu  |dL/dh_0|/|dL/dh_T-1| = %.3g at init, %.3g after %lld steps (probe MSE %.4f -> "
      "%.4f)\n",
      cell.c_str(), static_cast<unsigned long long>(seed), r.init.ratio(), r.trained.ratio(),
      static_cast<long long>(steps), r.init.loss, r.trained.loss);
}

// metrics/jacobian_spectrum.csv: per network and stage, the singular values of ∂s_t/∂s_{t−1} along
// the first probe sequence (init: the network network_study starts from; trained: r.parameters).
void log_spectra(experiments::Run& run, Metrics& metrics, const std::vector<CellKind>& cells, const NetworkRuns& runs,
                 const std::vector<uint64_t>& seeds, NetworkConfig cfg) {
  auto& csv =
      run.csv("jacobian_spectrum", {"t", "series", "cell", "seed", "stage", "sigma_max", "sigma_median", "sigma_min"});
  for (CellKind kind : cells)
    for (size_t i = 0; i < seeds.size(); ++i) {
      cfg.seed = seeds[i];
      const std::string cell = cell_name(kind), key = cell + "/" + seed_text(cfg.seed);
      for (bool trained : {false, true}) {
        const std::string stage = trained ? "trained" : "init";
        const JacobianSpectrum s =
            jacobian_spectrum(kind, cfg, trained ? runs.at(kind)[i].parameters : Run::NamedTensors{});
        for (size_t t = 0; t < s.sigma_max.size(); ++t)
          csv.row({int64_t(t), cell + "_" + stage + "_" + seed_text(cfg.seed), cell, int64_t(cfg.seed), stage,
                   s.sigma_max[t], s.sigma_median[t], s.sigma_min[t]});
        metrics[key + "/jacobian_sigma_max_geomean_" + stage] = s.geomean_max();
      }
    }
}

void plot_networks(experiments::Run& run, int64_t T) {
  run.plot({.name = "gradient_norms",
            .csv = "gradient_norms",
            .x = "k",
            .y = {"norm"},
            .group_by = "series",
            .log_y = true,
            .title = "||dL/dh_k|| on the adding problem, T = " + std::to_string(T),
            .x_label = "k",
            .y_label = "||dL/dh_k||"});
  run.plot({.name = "train_loss",
            .csv = "train_loss",
            .x = "step",
            .y = {"loss"},
            .group_by = "series",
            .log_y = true,
            .title = "training loss (batch MSE), adding problem T = " + std::to_string(T),
            .x_label = "step",
            .y_label = "MSE"});
  run.plot({.name = "jacobian_spectrum",
            .csv = "jacobian_spectrum",
            .x = "t",
            .y = {"sigma_max"},
            .group_by = "series",
            .log_y = true,
            .title = "largest singular value of ds_t/ds_{t-1} along a probe sequence, T = " + std::to_string(T),
            .x_label = "t",
            .y_label = "sigma_max(ds_t/ds_{t-1})"});
}

// ---- clipping -----------------------------------------------------------------------------------

std::string clip_label(double theta) { return theta > 0 ? "theta_" + fmt(theta) : std::string("none"); }

// One SGD training at θ and cfg.seed; its cost: steps × T × hidden².
experiments::Unit clipping_training(double theta, const ClippingConfig& cfg) {
  const std::string key = "clipping_" + clip_label(theta) + "_" + seed_text(cfg.seed);
  const double cost = double(cfg.steps * cfg.T) * double(cfg.hidden * cfg.hidden);
  const auto train = [theta](const ClippingConfig& c) { return clipping_study({theta}, c).front(); };
  return unit(key, cost, cfg, cfg.steps, train, clipping_unit);
}

// The clipping part's CSVs.
struct ClippingLogs {
  experiments::CsvLog &loss, &grad_norms, &summary;
};
ClippingLogs clipping_logs(experiments::Run& run) {
  return {run.csv("loss", {"step", "series", "seed", "loss"}),
          run.csv("grad_norms", {"step", "series", "seed", "norm"}),
          run.csv("summary",
                  {"clip", "seed", "clipped", "nonfinite", "diverged_at", "final_loss", "max_loss", "max_grad_norm"})};
}

// One run's rows in the part's CSVs and metrics, and its line on stdout.
void log_clipping(const ClippingLogs& logs, Metrics& metrics, const ClippingRun& r, uint64_t seed) {
  const std::string l = clip_label(r.theta), series = l + "_" + seed_text(seed), key = l + "/" + seed_text(seed);
  for (size_t s = 0; s < r.loss.size(); ++s) logs.loss.row({int64_t(s), series, int64_t(seed), r.loss[s]});
  for (size_t s = 0; s < r.grad_norms.size(); ++s)
    if (std::isfinite(r.grad_norms[s])) logs.grad_norms.row({int64_t(s), series, int64_t(seed), r.grad_norms[s]});
  logs.summary.row(
      {l, int64_t(seed), r.clipped, r.nonfinite, r.diverged_at, r.final_loss, r.max_loss, r.max_grad_norm});
  metrics[key + "/clipped"] = r.clipped;
  metrics[key + "/nonfinite"] = r.nonfinite;
  metrics[key + "/diverged_at"] = r.diverged_at;
  metrics[key + "/final_loss"] =
      std::isfinite(r.final_loss) ? experiments::Value(r.final_loss) : experiments::Value(std::string("inf"));
  metrics[key + "/max_grad_norm"] = r.max_grad_norm;
  std::printf(
      "clipping: %-9s seed %llu  clipped %lld/%zu  nonfinite %lld  diverged at %lld  final loss %.4g  max loss %.4g  "
      "max norm %.4g\n",
      l.c_str(), static_cast<unsigned long long>(seed), static_cast<long long>(r.clipped), r.grad_norms.size(),
      static_cast<long long>(r.nonfinite), static_cast<long long>(r.diverged_at), r.final_loss, r.max_loss,
      r.max_grad_norm);
}

void plot_clipping(experiments::Run& run, const ClippingConfig& cfg) {
  run.plot({.name = "loss",
            .csv = "loss",
            .x = "step",
            .y = {"loss"},
            .group_by = "series",
            .log_y = true,
            .title = "Elman rho = " + fmt(cfg.rho) + ", SGD lr = " + fmt(cfg.lr) + ": loss with and without clipping",
            .x_label = "step",
            .y_label = "batch MSE"});
  run.plot({.name = "grad_norms",
            .csv = "grad_norms",
            .x = "step",
            .y = {"norm"},
            .group_by = "series",
            .log_y = true,
            .title = "pre-clip global gradient norm",
            .x_label = "step",
            .y_label = "||g||"});
}

}  // namespace

// ---- the parts ------------------------------------------------------------------------------------

std::vector<Claim> scalar_part(const experiments::Program& program, const std::vector<double>& ws, int64_t T) {
  experiments::Run run(program, "scalar");
  const auto curves = scalar_study(ws, T);
  auto& csv = run.csv("gradients", {"k", "w", "measured", "closed_form", "rel_error"});
  Metrics metrics{{"T", T}, {"max_rel_error", 0.0}};
  for (const auto& c : curves) {
    for (int64_t k = 0; k <= T; ++k) {
      const double m = c.measured[size_t(k)], f = c.closed_form[size_t(k)];
      csv.row({k, c.w, m, f, std::abs(m - f) / f});
    }
    metrics["dhT_dh0_w" + fmt(c.w)] = c.measured[0];
    metrics["max_rel_error"] = std::max(std::get<double>(metrics["max_rel_error"]), c.max_rel_error);
    std::printf("scalar: w = %-4g  dh_%lld/dh_0 = %.6g (closed form %.6g)\n", c.w, static_cast<long long>(T),
                c.measured[0], c.closed_form[0]);
  }
  run.plot({.name = "gradients",
            .csv = "gradients",
            .x = "k",
            .y = {"measured"},
            .group_by = "w",
            .log_y = true,
            .title = "|dh_T/dh_k| measured by backward, h_t = w h_{t-1}, T = " + std::to_string(T),
            .x_label = "k",
            .y_label = "|dh_T/dh_k|"});
  run.finish(metrics);
  return finish_claims(run, scalar_claims(curves, T));
}

std::vector<Claim> networks_part(const Context& ctx, const std::vector<CellKind>& cells, const NetworkConfig& cfg) {
  experiments::Run run(ctx.program, "networks");
  const experiments::UnitStore store(run);
  write_cells(run, cells);
  const NetworkLogs logs = network_logs(run);
  Metrics metrics{{"T", cfg.T}, {"train_steps", cfg.train_steps}, {"seeds", int64_t(ctx.seeds.size())}};
  std::vector<experiments::Unit> units;
  for (CellKind cell : cells)
    for (uint64_t seed : ctx.seeds) {
      NetworkConfig c = cfg;
      c.seed = seed;
      units.push_back(network_training(cell, c));
    }
  const std::vector<nn::Checkpoint> done = experiments::train_units(store, units, {.on_trained = ctx.hooks.on_train});
  NetworkRuns runs;
  std::map<std::string, experiments::Run::NamedTensors> models;  // the trained models, "<cell>_seed<s>"
  auto next = done.begin();
  for (CellKind cell : cells)
    for (uint64_t seed : ctx.seeds) {
      runs[cell].push_back(network_from_unit(*next++));
      log_network(logs, metrics, runs[cell].back(), seed, cfg.train_steps);
      models[std::string(cell_name(cell)) + "_" + seed_text(seed)] = runs[cell].back().parameters;
    }
  log_spectra(run, metrics, cells, runs, ctx.seeds, cfg);
  plot_networks(run, cfg.T);
  run.save_models(models);
  run.finish(metrics);
  return finish_claims(run, network_claims(runs, cfg));
}

std::vector<Claim> spectral_part(const experiments::Program& program, const std::vector<double>& rhos,
                                 const NetworkConfig& cfg) {
  experiments::Run run(program, "spectral");
  write_cells(run, {CellKind::rnn});
  const auto points = spectral_study(rhos, cfg);
  auto& norms = run.csv("gradient_norms", {"k", "rho", "norm"});
  auto& summary = run.csv("summary", {"rho", "rho_measured", "gamma", "rho_gamma", "per_step_factor", "ratio"});
  Metrics metrics{{"T", cfg.T}};
  for (const auto& p : points) {
    for (size_t k = 0; k < p.profile.h_norms.size(); ++k) norms.row({int64_t(k), p.rho_target, p.profile.h_norms[k]});
    summary.row({p.rho_target, p.rho_measured, p.gamma, p.rho_gamma, p.per_step_factor, p.profile.ratio()});
    const std::string key = "rho" + fmt(p.rho_target);
    metrics[key + "/rho_measured"] = p.rho_measured;
    metrics[key + "/gamma"] = p.gamma;
    metrics[key + "/rho_gamma"] = p.rho_gamma;
    metrics[key + "/per_step_factor"] = p.per_step_factor;
    metrics[key + "/ratio"] = p.profile.ratio();
    std::printf(
        "spectral: rho = %-4g (measured %.6f)  gamma = %.4f  rho*gamma = %.4f  measured factor/step = %.4f  ratio = "
        "%.3g\n",
        p.rho_target, p.rho_measured, p.gamma, p.rho_gamma, p.per_step_factor, p.profile.ratio());
  }
  run.plot({.name = "gradient_norms",
            .csv = "gradient_norms",
            .x = "k",
            .y = {"norm"},
            .group_by = "rho",
            .log_y = true,
            .title = "Elman, W_hh = rho * orthogonal: ||dL/dh_k|| at init, T = " + std::to_string(cfg.T),
            .x_label = "k",
            .y_label = "||dL/dh_k||"});
  run.finish(metrics);
  return finish_claims(run, spectral_claims(points));
}

std::vector<Claim> clipping_part(const Context& ctx, const std::vector<double>& thetas, const ClippingConfig& cfg) {
  experiments::Run run(ctx.program, "clipping");
  const experiments::UnitStore store(run);
  write_cells(run, {CellKind::rnn});
  const ClippingLogs logs = clipping_logs(run);
  Metrics metrics{{"rho", cfg.rho}, {"lr", cfg.lr}, {"steps", cfg.steps}, {"seeds", int64_t(ctx.seeds.size())}};
  std::vector<experiments::Unit> units;
  for (double theta : thetas)
    for (uint64_t seed : ctx.seeds) {
      ClippingConfig c = cfg;
      c.seed = seed;
      units.push_back(clipping_training(theta, c));
    }
  const std::vector<nn::Checkpoint> done = experiments::train_units(store, units, {.on_trained = ctx.hooks.on_train});
  ClippingRuns runs;
  auto next = done.begin();
  for (double theta : thetas)
    for (uint64_t seed : ctx.seeds) {
      runs[theta].push_back(clipping_from_unit(*next++));
      log_clipping(logs, metrics, runs[theta].back(), seed);
    }
  plot_clipping(run, cfg);
  run.finish(metrics);
  return finish_claims(run, clipping_claims(runs));
}

}  // namespace seqgrad::gradient_study
