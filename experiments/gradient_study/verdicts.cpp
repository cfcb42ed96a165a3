// The guide's claims of Experiment 1, judged from the parts' results: closed forms and per-point
// conditions are exact checks; every comparison between groups (cells, clipping or not) is judged by
// experiments::compare() over seeds, with the rule (kVerdictRuleShort) in the claim's expected text.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "experiments/gradient_study/parts.h"

namespace seqgrad::gradient_study {

namespace {

using experiments::Comparison;
using experiments::fmt;
using experiments::Outcome;

const char* verdict(bool ok) { return ok ? "holds" : "does not hold"; }

// Several comparisons that must all favour their A side: inconclusive when any lacks seeds, holds
// when every one favours A, does not hold otherwise.
const char* all_favour_a(const std::vector<Comparison>& comparisons) {
  bool all = true;
  for (const Comparison& c : comparisons) {
    if (c.outcome == Outcome::inconclusive) return "inconclusive";
    all = all && c.outcome == Outcome::a_better;
  }
  return verdict(all);
}

// Why a comparison is inconclusive, for the measured text ("" when it is not).
std::string seeds_note(const std::vector<Comparison>& comparisons) {
  for (const Comparison& c : comparisons)
    if (c.outcome == Outcome::inconclusive)
      return " [inconclusive: " + std::to_string(std::min(c.a.n, c.b.n)) +
             " seed(s) per side (--seeds), the rule needs " + std::to_string(experiments::kMinSeeds) + "]";
  return "";
}

// log10 of each seed's ‖∂L/∂h_0‖ / ‖∂L/∂h_T−1‖: the decades of gradient kept over the sequence. A norm
// that underflowed to 0 counts as the smallest f32 (1.4e-45), so the log stays finite.
std::vector<double> decades(const std::vector<NetworkResult>& runs, bool trained) {
  std::vector<double> out;
  for (const NetworkResult& r : runs)
    out.push_back(std::log10(std::max((trained ? r.trained : r.init).ratio(), 1.4e-45)));
  return out;
}

// log10 of each seed's final loss: the unclipped losses span orders of magnitude, so they are
// compared on a log scale. A diverged run's final loss is infinite; it counts with the largest finite
// loss it reached instead, which can only favour the unclipped side (conservative for the claim).
std::vector<double> final_losses(const std::vector<ClippingRun>& runs) {
  std::vector<double> out;
  for (const ClippingRun& r : runs) out.push_back(std::log10(r.diverged_at >= 0 ? r.max_loss : r.final_loss));
  return out;
}

}  // namespace

std::vector<Claim> scalar_claims(const std::vector<ScalarCurve>& curves, int64_t T) {
  std::vector<Claim> claims;
  auto guide = [&](double w, double expected, double tolerance, const std::string& text) {
    for (const auto& c : curves)
      if (c.w == w && T == 50) {
        const double m = c.measured[0];
        const bool ok = std::abs(m - expected) <= tolerance && c.max_rel_error <= 1e-12;
        claims.push_back(
            {text, "≈ " + fmt(expected) + " (closed form " + fmt(w) + "^50 = " + fmt(c.closed_form[0], 6) + ")",
             fmt(m, 6) + " (by backward; max rel. error vs closed form " + fmt(c.max_rel_error, 2) + ")", verdict(ok)});
      }
  };
  guide(0.9, 0.005, 0.0005, "0.9^50 ≈ 0.005: with w = 0.9 the gradient vanishes over 50 steps");
  guide(1.1, 117, 0.5, "1.1^50 ≈ 117: with w = 1.1 the gradient explodes over 50 steps");
  return claims;
}

std::vector<Claim> network_claims(const NetworkRuns& runs, const NetworkConfig& cfg) {
  if (!runs.count(CellKind::rnn) || !runs.count(CellKind::lstm) || !runs.count(CellKind::gru)) return {};
  std::vector<Claim> claims;
  for (bool trained : {false, true}) {
    const std::string stage =
        trained ? "after " + std::to_string(cfg.train_steps) + " training steps" : "at initialisation";
    const std::vector<double> rnn = decades(runs.at(CellKind::rnn), trained);
    const std::vector<Comparison> c = {experiments::compare(decades(runs.at(CellKind::lstm), trained), rnn, true),
                                       experiments::compare(decades(runs.at(CellKind::gru), trained), rnn, true)};
    claims.push_back({"LSTM/GRU keep gradients over long ranges better than the vanilla RNN (" + stage + ")",
                      "log10(||dL/dh_0|| / ||dL/dh_T-1||) over seeds larger for LSTM and for GRU (reset-after form) "
                      "than for the Elman RNN, T = " +
                          std::to_string(cfg.T) + ". " + experiments::kVerdictRuleShort,
                      "lstm vs rnn: " + c[0].text() + "; gru vs rnn: " + c[1].text() + seeds_note(c), all_favour_a(c)});
  }
  return claims;
}

std::vector<Claim> spectral_claims(const std::vector<SpectralPoint>& points) {
  std::string measured;
  bool sufficient = true, necessary = true;  // Pascanu et al.: ρ < 1 ⇒ vanishing; exploding ⇒ ρ > 1
  int far_mismatch = 0, near_mismatch = 0;   // factor and ρ·γ on different sides of 1
  double worst = 0;                          // max |factor / (ρ·γ) − 1|
  for (const auto& p : points) {
    if (p.rho_measured < 1 && !(p.per_step_factor < 1)) sufficient = false;
    if (p.per_step_factor > 1 && !(p.rho_measured > 1)) necessary = false;
    if ((p.rho_gamma < 1) != (p.per_step_factor < 1))
      ++(std::abs(std::log(p.rho_gamma)) < 0.05 ? near_mismatch : far_mismatch);
    worst = std::max(worst, std::abs(p.per_step_factor / p.rho_gamma - 1));
    measured += (measured.empty() ? "" : "; ") + std::string("rho ") + fmt(p.rho_target) + ": rho*gamma " +
                fmt(p.rho_gamma, 3) + ", factor " + fmt(p.per_step_factor, 3);
  }
  // ρ·γ uses the MEAN tanh′, so near 1 its side of 1 is within its own approximation error: a
  // disagreement there (|log ρ·γ| < 0.05) makes the second claim inconclusive rather than false.
  return {{"rho < 1 is sufficient for vanishing gradients, rho > 1 necessary for exploding ones (Pascanu et al. 2013)",
           "measured factor per step (||dL/dh_0|| / ||dL/dh_T-1||)^(1/(T-1)) < 1 for every rho < 1, and > 1 only for "
           "rho > 1",
           measured, verdict(sufficient && necessary)},
          {"the gradient changes by about rho*gamma per step: it vanishes when rho*gamma < 1 and explodes when > 1",
           "measured factor per step on the same side of 1 as rho*gamma",
           measured + "; max |factor/(rho*gamma) - 1| = " + fmt(worst, 3),
           far_mismatch    ? "does not hold"
           : near_mismatch ? "inconclusive"
                           : "holds"}};
}

std::vector<Claim> clipping_claims(const ClippingRuns& runs) {
  if (!runs.count(0.0) || runs.size() < 2) return {};
  const std::vector<double> none = final_losses(runs.at(0.0));
  std::vector<Comparison> c;
  std::string measured;
  int64_t clipped_diverged = 0;
  for (const auto& [theta, seeds] : runs) {
    int64_t diverged = 0;
    for (const ClippingRun& r : seeds) diverged += r.diverged_at >= 0;
    measured += (measured.empty() ? "" : "; ") + (theta > 0 ? "theta " + fmt(theta) : std::string("none")) +
                ": diverged in " + std::to_string(diverged) + "/" + std::to_string(seeds.size()) + " seeds";
    if (theta == 0) continue;
    clipped_diverged += diverged;
    c.push_back(experiments::compare(final_losses(seeds), none, false));
    measured += ", log10 final loss vs none: " + c.back().text();
  }
  return {{"clipping stabilises training in the exploding regime",
           "with clipping: no run diverges, and log10 of the final loss (mean of the last 10% of steps; a diverged run "
           "counts with its largest finite loss) is lower than without, over seeds. " +
               std::string(experiments::kVerdictRuleShort),
           measured + seeds_note(c), clipped_diverged > 0 ? "does not hold" : all_favour_a(c)}};
}

}  // namespace seqgrad::gradient_study
