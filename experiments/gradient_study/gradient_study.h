// Experiment 1 (issue #5): vanishing and exploding gradients, measured with our own autodiff.
// Pure computations returning plain structs (no files, no printing), so the tests call them
// directly and the program (experiments/gradient_study/main.cpp) only logs and plots them.
//   (a) scalar_study:   h_t = w·h_{t−1} on a tape; ∂h_T/∂h_k by backward, next to w^(T−k).
//   (b) network_study:  ‖∂L/∂h_k‖ for Elman, LSTM, GRU at init and after training (adding problem);
//       spectral_study: Elman with W_hh = ρ·Q (Q orthogonal, so the spectral radius is exactly ρ),
//                       the tanh-derivative factor γ and ρ·γ next to the measured decay per step.
//       jacobian_spectrum: the singular values of the per-step state Jacobian ∂s_t/∂s_{t−1} of a
//                       network (nn::state_jacobians), the factor Pascanu et al. bound the decay with.
//   (c) clipping_study: the exploding setting trained with no clipping and with clip-by-norm θ.
// Everything random comes from Rngs seeded by the caller's seed: same seed ⇒ same bits.
#pragma once

#include "experiments/common/cells.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "nn/io/checkpoint.h"

namespace seqgrad::gradient_study {

// ---- (a) scalar recurrence ---------------------------------------------------------------------

struct ScalarCurve {
  double w = 0;
  std::vector<double> measured;     // [k] = ∂h_T/∂h_k from backward, k = 0..T (f64)
  std::vector<double> closed_form;  // [k] = w^(T−k)
  double max_rel_error = 0;         // max_k |measured − closed| / closed
};
// One tape per w: h_0 a leaf, h_t = w·h_{t−1} as mul ops with w a tape constant, every h_k
// retain_grad()-ed, one backward from h_T.
std::vector<ScalarCurve> scalar_study(const std::vector<double>& ws, int64_t T);

// ---- (b) real networks --------------------------------------------------------------------------

using experiments::cell_name;
using experiments::CellKind;
using experiments::parse_cell;

struct NetworkConfig {
  int64_t T = 50;  // sequence length of the adding problem
  int64_t hidden = 32;
  int64_t batch = 32;        // training batch
  int64_t probe_batch = 64;  // fixed held-out batch on which gradients are measured
  int64_t train_steps = 300;
  double lr = 1e-3;          // Adam
  double clip = 1.0;         // clip-by-norm during training (0 = off)
  double forget_bias = 1.0;  // LSTM forget-gate bias (Gers et al. 2000; Jozefowicz et al. 2015)
  uint64_t seed = 1;
  std::function<void(int64_t step, double loss)> on_step = {};  // after each training step (progress)
};

struct GradientProfile {
  std::vector<double> h_norms;  // [k] = ‖∂L/∂h_k‖ (Frobenius over the probe batch), k = 0..T−1
  double loss = 0;              // probe-batch MSE
  double ratio() const;         // ‖∂L/∂h_first‖ / ‖∂L/∂h_last‖ (first = k 0, last = k T−1)
};

struct NetworkResult {
  CellKind cell = CellKind::rnn;
  int64_t num_parameters = 0;
  GradientProfile init, trained;
  std::vector<double> train_loss;            // per training step (batch MSE, before the update)
  std::map<std::string, Tensor> parameters;  // the trained model's parameters by name (for checkpoints)
};
// A cell (2 inputs, `hidden` units) + Linear head on the last h, MSE on the adding problem. The
// model, the data stream and the probe batch derive from cfg.seed only, so every cell sees the
// same data. Trains cfg.train_steps Adam steps (with clip-by-norm cfg.clip when > 0).
NetworkResult network_study(CellKind cell, const NetworkConfig& cfg);

// ---- per-step Jacobian spectrum ------------------------------------------------------------------

struct JacobianSpectrum {
  // [t], t = 0..T−1, of J_t = ∂s_t/∂s_{t−1} (s = h, or [h; c] for the LSTM: S = H or 2H values):
  // the largest singular value, the middle one (σ_{S/2} counting from σ_0 = the largest) and the
  // smallest. ‖∂s_T/∂s_k‖ ≤ Π_{t>k} sigma_max[t] (Pascanu et al. 2013).
  std::vector<double> sigma_max, sigma_median, sigma_min;
  double geomean_max() const;  // (Π_t sigma_max[t])^(1/T): the bound's factor per step
};
// Along the first sequence of cfg's probe batch, for the network network_study builds from
// cfg.seed: at initialisation when `parameters` is empty, else with those (NetworkResult::parameters).
// Computed in float64 (nn::state_jacobians), S backward passes per step.
JacobianSpectrum jacobian_spectrum(CellKind cell, const NetworkConfig& cfg,
                                   const std::map<std::string, Tensor>& parameters = {});

// ---- spectral-radius sweep ---------------------------------------------------------------------

// rho · Q with Q a (n, n) orthogonal matrix from init::orthogonal: every eigenvalue has modulus
// exactly rho (up to f32 rounding), so the spectral radius is rho by construction.
Tensor scaled_orthogonal(int64_t n, double rho, uint64_t seed, DType dtype = DType::f32);
// Spectral radius of a square matrix by Gelfand's formula: (‖A^k v‖/‖v‖)^(1/k) for a random v,
// k = iters, renormalising each step (valid for any matrix, also when power iteration would not
// settle because several eigenvalues share the largest modulus).
double spectral_radius(const Tensor& A, int iters = 400, uint64_t seed = 12345);

struct SpectralPoint {
  double rho_target = 0;
  double rho_measured = 0;     // spectral_radius(W_hh)
  double gamma = 0;            // mean |tanh'(a_t)| = mean (1 − h_t²) over steps, batch, units
  double rho_gamma = 0;        // rho_measured · gamma
  double per_step_factor = 0;  // (‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖)^(1/(T−1)): the measured factor per step
  GradientProfile profile;     // at initialisation
};
// Elman (tanh) with W_hh = ρ·Q, other weights as the cell initialises them, on the probe batch of
// the adding problem (cfg.T, cfg.hidden, cfg.probe_batch, cfg.seed); no training.
std::vector<SpectralPoint> spectral_study(const std::vector<double>& rhos, const NetworkConfig& cfg);

// ---- (c) gradient clipping ---------------------------------------------------------------------

struct ClippingConfig {
  int64_t T = 50;
  int64_t hidden = 32;
  int64_t batch = 32;
  int64_t steps = 300;
  double rho = 1.5;  // W_hh = ρ·Q: the exploding regime
  double lr = 0.1;   // plain SGD, high on purpose
  uint64_t seed = 1;
  std::function<void(int64_t step, double loss)> on_step = {};  // after each step (progress)
};

struct ClippingRun {
  double theta = 0;                // 0 = no clipping
  std::vector<double> loss;        // per step; stops at the first non-finite loss (divergence)
  std::vector<double> grad_norms;  // pre-clip global gradient norm per step (ClipStats::norms)
  int64_t clipped = 0;             // ClipStats::clipped
  int64_t nonfinite = 0;           // steps whose gradient norm was inf/NaN (update skipped)
  int64_t diverged_at = -1;        // first step whose loss was non-finite, or −1
  double final_loss = 0;           // mean of the last 10% of the recorded losses (inf if diverged)
  double max_loss = 0;             // largest finite loss seen
  double max_grad_norm = 0;        // largest finite pre-clip norm
};
// Same model, data and seed for every θ in thetas (0 = no clipping); SGD without momentum.
std::vector<ClippingRun> clipping_study(const std::vector<double>& thetas, const ClippingConfig& cfg);

// ---- saved results: UnitStore units (--resume) and saved models (--eval-only) ------------------

// ‖∂L/∂h_k‖ of a trained network rebuilt from the parameters "<prefix><name>" of a checkpoint, on
// the probe batch of cfg (the one network_study measured NetworkResult::trained on: the same bits).
// Throws (naming the tensor) when they do not fit the cell and cfg.hidden.
GradientProfile probe_saved(CellKind cell, const NetworkConfig& cfg, const nn::Checkpoint& ckpt,
                            const std::string& prefix);
// A finished training as a unit checkpoint and back, bit for bit (series as f64 tensors).
nn::Checkpoint network_unit(const NetworkResult& r);
NetworkResult network_from_unit(const nn::Checkpoint& unit);
nn::Checkpoint clipping_unit(const ClippingRun& r);
ClippingRun clipping_from_unit(const nn::Checkpoint& unit);

}  // namespace seqgrad::gradient_study
