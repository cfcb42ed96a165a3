// Experiment 1 computations: see gradient_study.h. Every gradient here comes from Tape::backward
// (retain_grad for the scalar study, GradientProbe hooks for the networks); closed forms are only
// computed next to them for comparison.
#include "experiments/gradient_study/gradient_study.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "autograd/ops.h"
#include "autograd/rng.h"
#include "tasks/tasks.h"
#include "nn/cells.h"
#include "nn/io/checkpoint.h"
#include "nn/init.h"
#include "nn/jacobian_probe.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "nn/io/safetensors.h"  // module_tensors
#include "optim/optim.h"

namespace seqgrad::gradient_study {

namespace {

// Independent streams from one seed (golden-ratio offsets, so seed s and s + 1 do not overlap).
constexpr uint64_t kDataStream = 0x9E3779B97F4A7C15ull, kProbeStream = 0x3C6EF372FE94F82Aull,
                   kMatrixStream = 0xDAA66D2C7DDF743Full;

void check_config(int64_t T, int64_t hidden, int64_t batch, const char* where) {
  if (T < 2 || hidden < 1 || batch < 1)
    throw std::invalid_argument(std::string(where) +
                                ": needs T >= 2, hidden >= 1, batch >= 1, got T = " + std::to_string(T) +
                                ", hidden = " + std::to_string(hidden) + ", batch = " + std::to_string(batch));
}

std::unique_ptr<nn::Cell> make_cell(CellKind kind, int64_t hidden, Rng& rng, double forget_bias) {
  return experiments::make_cell(kind, 2, hidden, rng, forget_bias);
}

// cell over x (B, T, 2), a Linear head on the last h: the adding-problem regressor.
struct Regressor : nn::Module {
  std::unique_ptr<nn::Cell> cell;
  nn::Linear head;
  Regressor(std::unique_ptr<nn::Cell> c, Rng& rng) : cell(std::move(c)), head(cell->hidden_size(), 1, rng) {
    register_module("cell", *cell);
    register_module("head", head);
  }
  struct Out {
    Var loss;
    nn::UnrollResult run;
  };
  Out forward(Tape& tape, const tasks::Batch& batch) {
    nn::UnrollResult run = nn::unroll(*cell, tape.constant(batch.x));
    Var loss = mse(head(run.final.h), tape.constant(batch.target));
    return {loss, std::move(run)};
  }
};

// ‖∂L/∂h_k‖ for every k on one batch; parameter gradients are zeroed again afterwards.
GradientProfile probe(Regressor& model, const tasks::Batch& batch, double* gamma = nullptr) {
  Tape tape;
  model.zero_grad();
  Regressor::Out out = model.forward(tape, batch);
  nn::GradientProbe gp(out.run);
  tape.backward(out.loss);
  GradientProfile p;
  p.h_norms = gp.h_norms();
  p.loss = out.loss.item();
  if (gamma) {  // tanh'(a) = 1 − tanh(a)² = 1 − h²: the mean over steps, batch and units
    double s = 0;
    int64_t n = 0;
    for (const Var& h : out.run.h)
      for (double v : h.value().to_vector()) {
        s += 1.0 - v * v;
        ++n;
      }
    *gamma = s / double(n);
  }
  model.zero_grad();
  return p;
}

double tail_mean(const std::vector<double>& v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const size_t n = std::max<size_t>(1, v.size() / 10);
  double s = 0;
  for (size_t i = v.size() - n; i < v.size(); ++i) s += v[i];
  return s / double(n);
}

}  // namespace

// ---- (a) ---------------------------------------------------------------------------------------

std::vector<ScalarCurve> scalar_study(const std::vector<double>& ws, int64_t T) {
  if (T < 1) throw std::invalid_argument("scalar_study: needs T >= 1, got " + std::to_string(T));
  std::vector<ScalarCurve> curves;
  for (double w : ws) {
    Tape tape;
    Var wv = tape.constant(Tensor::scalar(w, DType::f64));
    std::vector<Var> h;
    h.reserve(size_t(T + 1));
    h.push_back(tape.variable(Tensor::scalar(1.0, DType::f64)));
    for (int64_t t = 1; t <= T; ++t) h.push_back(wv * h.back());  // h_t = w·h_{t−1}
    for (int64_t k = 1; k <= T; ++k) h[size_t(k)].retain_grad();
    tape.backward(h.back());  // seed ∂h_T/∂h_T = 1
    ScalarCurve c;
    c.w = w;
    for (int64_t k = 0; k <= T; ++k) {
      const double measured = h[size_t(k)].grad().item();  // k = T: the seed, 1
      const double closed = std::pow(w, double(T - k));
      c.measured.push_back(measured);
      c.closed_form.push_back(closed);
      c.max_rel_error = std::max(c.max_rel_error, std::abs(measured - closed) / std::abs(closed));
    }
    curves.push_back(std::move(c));
  }
  return curves;
}

// ---- (b) ---------------------------------------------------------------------------------------

double GradientProfile::ratio() const {
  if (h_norms.empty()) return std::numeric_limits<double>::quiet_NaN();
  return h_norms.front() / h_norms.back();
}

NetworkResult network_study(CellKind kind, const NetworkConfig& cfg) {
  check_config(cfg.T, cfg.hidden, cfg.batch, "network_study");
  if (cfg.train_steps < 0) throw std::invalid_argument("network_study: train_steps must be >= 0");
  Rng model_rng(cfg.seed), data_rng(cfg.seed + kDataStream), probe_rng(cfg.seed + kProbeStream);
  Regressor model(make_cell(kind, cfg.hidden, model_rng, cfg.forget_bias), model_rng);
  const tasks::Batch probe_batch = tasks::adding_problem(probe_rng, cfg.probe_batch, cfg.T);

  NetworkResult r;
  r.cell = kind;
  r.num_parameters = model.num_parameters();
  r.init = probe(model, probe_batch);

  optim::Adam adam(model.named_parameters(), {.lr = cfg.lr});
  Tape tape;
  for (int64_t step = 0; step < cfg.train_steps; ++step) {
    tape.reset();
    adam.zero_grad();
    Var loss = model.forward(tape, tasks::adding_problem(data_rng, cfg.batch, cfg.T)).loss;
    tape.backward(loss);
    r.train_loss.push_back(loss.item());
    if (cfg.clip > 0) optim::clip_grad_norm(model.named_parameters(), cfg.clip);
    adam.step();
    if (cfg.on_step) cfg.on_step(step + 1, r.train_loss.back());
  }
  r.trained = probe(model, probe_batch);
  r.parameters = nn::module_tensors(model);
  return r;
}

GradientProfile probe_saved(CellKind kind, const NetworkConfig& cfg, const nn::Checkpoint& ckpt,
                            const std::string& prefix) {
  check_config(cfg.T, cfg.hidden, cfg.probe_batch, "probe_saved");
  Rng model_rng(cfg.seed), probe_rng(cfg.seed + kProbeStream);
  Regressor model(make_cell(kind, cfg.hidden, model_rng, cfg.forget_bias), model_rng);
  nn::get_module(ckpt, model, prefix);
  return probe(model, tasks::adding_problem(probe_rng, cfg.probe_batch, cfg.T));
}

// ---- per-step Jacobian spectrum ------------------------------------------------------------------

double JacobianSpectrum::geomean_max() const {
  if (sigma_max.empty()) return std::numeric_limits<double>::quiet_NaN();
  double log_sum = 0;
  for (double s : sigma_max) log_sum += std::log(s);
  return std::exp(log_sum / double(sigma_max.size()));
}

JacobianSpectrum jacobian_spectrum(CellKind kind, const NetworkConfig& cfg,
                                   const std::map<std::string, Tensor>& parameters) {
  check_config(cfg.T, cfg.hidden, cfg.probe_batch, "jacobian_spectrum");
  Rng model_rng(cfg.seed), probe_rng(cfg.seed + kProbeStream);
  Regressor model(make_cell(kind, cfg.hidden, model_rng, cfg.forget_bias), model_rng);
  if (!parameters.empty()) nn::load_module_tensors(model, parameters);
  const Tensor x = tasks::adding_problem(probe_rng, cfg.probe_batch, cfg.T).x;  // (B, T, 2)
  const int64_t per_row = cfg.T * x.size(2);
  const std::vector<double> all = x.to_vector();
  const Tensor first =
      Tensor::from({cfg.T, x.size(2)}, std::span<const double>(all.data(), size_t(per_row)), x.dtype());
  JacobianSpectrum spectrum;
  for (const nn::StepJacobian& step : nn::state_jacobians(*model.cell, first)) {
    const std::vector<double>& sv = step.singular_values;
    spectrum.sigma_max.push_back(sv.front());
    spectrum.sigma_median.push_back(sv[sv.size() / 2]);
    spectrum.sigma_min.push_back(sv.back());
  }
  return spectrum;
}

// ---- spectral sweep ------------------------------------------------------------------------------

Tensor scaled_orthogonal(int64_t n, double rho, uint64_t seed, DType dtype) {
  if (n < 1 || !(rho >= 0) || !std::isfinite(rho))
    throw std::invalid_argument("scaled_orthogonal: needs n >= 1 and a finite rho >= 0");
  Rng rng(seed + kMatrixStream);
  Tensor W = Tensor::zeros({n, n}, dtype);
  nn::init::orthogonal(W, rng, rho);
  return W;
}

double spectral_radius(const Tensor& A, int iters, uint64_t seed) {
  if (A.rank() != 2 || A.size(0) != A.size(1))
    throw std::invalid_argument("spectral_radius: needs a square matrix, got " + A.shape().str());
  if (iters < 1) throw std::invalid_argument("spectral_radius: iters must be >= 1");
  const int64_t n = A.size(0);
  const std::vector<double> a = A.to_vector();
  Rng rng(seed);
  std::vector<double> v(static_cast<size_t>(n)), next(static_cast<size_t>(n));
  double norm = 0;
  for (double& x : v) {
    x = rng.normal();
    norm += x * x;
  }
  norm = std::sqrt(norm);
  for (double& x : v) x /= norm;
  double log_growth = 0;  // Σ log ‖A v_i‖ with ‖v_i‖ = 1: log ‖A^k v_0‖
  for (int it = 0; it < iters; ++it) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) {
      double acc = 0;
      for (int64_t j = 0; j < n; ++j) acc += a[size_t(i * n + j)] * v[size_t(j)];
      next[size_t(i)] = acc;
      s += acc * acc;
    }
    s = std::sqrt(s);
    if (s == 0) return 0.0;  // nilpotent along v
    log_growth += std::log(s);
    for (int64_t i = 0; i < n; ++i) v[size_t(i)] = next[size_t(i)] / s;
  }
  return std::exp(log_growth / iters);
}

std::vector<SpectralPoint> spectral_study(const std::vector<double>& rhos, const NetworkConfig& cfg) {
  check_config(cfg.T, cfg.hidden, cfg.probe_batch, "spectral_study");
  Rng probe_rng(cfg.seed + kProbeStream);
  const tasks::Batch batch = tasks::adding_problem(probe_rng, cfg.probe_batch, cfg.T);
  std::vector<SpectralPoint> points;
  for (double rho : rhos) {
    Rng model_rng(cfg.seed);  // the same input weights, bias and head for every ρ
    Regressor model(make_cell(CellKind::rnn, cfg.hidden, model_rng, 0.0), model_rng);
    auto& cell = static_cast<nn::Elman&>(*model.cell);
    cell.weight_hh.value = scaled_orthogonal(cfg.hidden, rho, cfg.seed);
    SpectralPoint p;
    p.rho_target = rho;
    p.rho_measured = spectral_radius(cell.weight_hh.value);
    p.profile = probe(model, batch, &p.gamma);
    p.rho_gamma = p.rho_measured * p.gamma;
    p.per_step_factor = std::pow(p.profile.ratio(), 1.0 / double(cfg.T - 1));
    points.push_back(std::move(p));
  }
  return points;
}

// ---- (c) ---------------------------------------------------------------------------------------

std::vector<ClippingRun> clipping_study(const std::vector<double>& thetas, const ClippingConfig& cfg) {
  check_config(cfg.T, cfg.hidden, cfg.batch, "clipping_study");
  std::vector<ClippingRun> runs;
  for (double theta : thetas) {
    if (!(theta >= 0) || !std::isfinite(theta))
      throw std::invalid_argument("clipping_study: theta must be finite and >= 0 (0 = no clipping)");
    Rng model_rng(cfg.seed), data_rng(cfg.seed + kDataStream);  // identical for every θ
    Regressor model(make_cell(CellKind::rnn, cfg.hidden, model_rng, 0.0), model_rng);
    static_cast<nn::Elman&>(*model.cell).weight_hh.value = scaled_orthogonal(cfg.hidden, cfg.rho, cfg.seed);
    const auto params = model.named_parameters();
    optim::SGD sgd(params, {.lr = cfg.lr});
    optim::ClipStats stats;
    ClippingRun run;
    run.theta = theta;
    Tape tape;
    for (int64_t step = 0; step < cfg.steps; ++step) {
      tape.reset();
      sgd.zero_grad();
      Var loss = model.forward(tape, tasks::adding_problem(data_rng, cfg.batch, cfg.T)).loss;
      const double l = loss.item();
      if (!std::isfinite(l)) {
        run.diverged_at = step;
        break;
      }
      run.loss.push_back(l);
      run.max_loss = std::max(run.max_loss, l);
      tape.backward(loss);
      double norm = 0;
      if (theta > 0) {
        norm = optim::clip_grad_norm(params, theta, 2.0, false, &stats);
      } else {
        norm = optim::grad_norm(params);
        stats.record(norm, false);
      }
      if (!std::isfinite(norm)) continue;  // counted by stats.nonfinite; no update from an inf gradient
      run.max_grad_norm = std::max(run.max_grad_norm, norm);
      sgd.step();
      if (cfg.on_step) cfg.on_step(step + 1, l);
    }
    run.grad_norms = stats.norms;
    run.clipped = stats.clipped;
    run.nonfinite = stats.nonfinite;
    run.final_loss = run.diverged_at >= 0 ? std::numeric_limits<double>::infinity() : tail_mean(run.loss);
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace seqgrad::gradient_study
