// The four parts of gradient_study, each writing its run folder, and the claims judged from their
// results (verdicts.cpp). Internal to the study: program.cpp reads the options and calls these.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "experiments/common/experiment.h"
#include "experiments/gradient_study/gradient_study.h"
#include "experiments/gradient_study/program.h"

namespace seqgrad::gradient_study {

using experiments::Claim;

// What every training part needs besides its config: the program, the seeds (--seeds of them,
// from --seed on) and the test hooks.
struct Context {
  const experiments::Program& program;
  std::vector<uint64_t> seeds;
  Hooks hooks;
};

std::vector<Claim> scalar_part(const experiments::Program& program, const std::vector<double>& ws, int64_t T);
std::vector<Claim> networks_part(const Context& ctx, const std::vector<CellKind>& cells, const NetworkConfig& cfg);
std::vector<Claim> spectral_part(const experiments::Program& program, const std::vector<double>& rhos,
                                 const NetworkConfig& cfg);
std::vector<Claim> clipping_part(const Context& ctx, const std::vector<double>& thetas, const ClippingConfig& cfg);

// ---- claims (verdicts.cpp) ------------------------------------------------------------------------

// Per cell, one trained network per seed (in the order of Context::seeds).
using NetworkRuns = std::map<CellKind, std::vector<NetworkResult>>;
// Per θ (0 = no clipping), one run per seed.
using ClippingRuns = std::map<double, std::vector<ClippingRun>>;

// The guide's closed forms 0.9^50 ≈ 0.005 and 1.1^50 ≈ 117, exact checks (only when T = 50).
std::vector<Claim> scalar_claims(const std::vector<ScalarCurve>& curves, int64_t T);
// LSTM and GRU keep more gradient than the Elman RNN, at init and after training: compare() over seeds.
std::vector<Claim> network_claims(const NetworkRuns& runs, const NetworkConfig& cfg);
// Pascanu et al.'s conditions on ρ, and ρ·γ as the factor per step: checks on every point.
std::vector<Claim> spectral_claims(const std::vector<SpectralPoint>& points);
// Clipping stabilises the exploding regime: no clipped run diverges, and compare() over seeds finds
// a lower final loss with clipping.
std::vector<Claim> clipping_claims(const ClippingRuns& runs);

}  // namespace seqgrad::gradient_study
