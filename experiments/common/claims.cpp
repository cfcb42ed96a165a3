// claims.json, statistics and verdict rules. See claims.h.
#include "experiments/common/claims.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "experiments/common/io.h"
#include "experiments/common/run_folder.h"
#include "nn/io/file_io.h"

namespace seqgrad::experiments {

// ---- claims -------------------------------------------------------------------------------------

void write_claims(const Run& run, const std::vector<Claim>& claims) { write_claims(run.dir(), claims); }

void write_claims(const fs::path& run_dir, const std::vector<Claim>& claims) {
  std::string text = "[";
  for (size_t k = 0; k < claims.size(); ++k) {
    const Claim& c = claims[k];
    if (c.verdict != "holds" && c.verdict != "does not hold" && c.verdict != "inconclusive")
      throw std::invalid_argument("write_claims: claim '" + c.claim + "': verdict '" + c.verdict +
                                  "' is not one of 'holds', 'does not hold', 'inconclusive'");
    text += std::string(k ? ",\n  " : "\n  ") + "{\"claim\": " + json_quote(c.claim) +
            ", \"expected\": " + json_quote(c.expected) + ", \"measured\": " + json_quote(c.measured) +
            ", \"verdict\": " + json_quote(c.verdict) + "}";
  }
  text += claims.empty() ? "]\n" : "\n]\n";
  fs::create_directories(run_dir);
  nn::write_file_atomic((run_dir / "claims.json").string(), text);
}

// Lenient on purpose: extra fields are ignored and any verdict text is kept, so claims written by
// other tools still show up.
std::vector<Claim> read_claims(const fs::path& claims_json) {
  Json j = read_json_file(claims_json);
  if (j.kind != Json::Kind::array)
    throw std::invalid_argument(claims_json.string() + ": expected a JSON list of claims");
  std::vector<Claim> out;
  for (const Json& item : j.items) {
    if (item.kind != Json::Kind::object)
      throw std::invalid_argument(claims_json.string() + ": a claim is not a JSON object");
    auto field = [&](const char* key) {
      const Json* v = item.find(key);
      return v ? v->display() : std::string();
    };
    out.push_back({field("claim"), field("expected"), field("measured"), field("verdict")});
  }
  return out;
}

// ---- statistics ---------------------------------------------------------------------------------

MeanStd mean_std(std::span<const double> values) {
  if (values.empty()) throw std::invalid_argument("mean_std: no values");
  MeanStd m;
  m.n = int(values.size());
  for (double v : values) m.mean += v;
  m.mean /= double(values.size());
  if (values.size() > 1) {
    double ss = 0;
    for (double v : values) ss += (v - m.mean) * (v - m.mean);
    m.std = std::sqrt(ss / double(values.size() - 1));
  }
  return m;
}

// ---- the verdict rule ----------------------------------------------------------------------------

const char* const kVerdictRule =
    "A comparison needs at least 3 seeds per side, else it is inconclusive. With 3 or more, A and B differ "
    "when Welch's two-sided t-test rejects equal means at the 5% level: |mean_A - mean_B| > "
    "t(0.975, nu) * sqrt(s_A^2/n_A + s_B^2/n_B), nu by Welch-Satterthwaite. Speed claims apply the same "
    "rule to per-epoch times.";

const char* const kVerdictRuleShort = "Judged over seeds by the verdict rule (>= 3 seeds; Welch's t-test at 5%).";

double t_quantile_975(double nu) {
  static constexpr double kTable[31] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                        2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
                                        2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (!(nu >= 1))
    throw std::invalid_argument("t_quantile_975: degrees of freedom must be >= 1, got " + format_number(nu));
  if (nu >= 30) return 1.95996 + (kTable[30] - 1.95996) * 30.0 / nu;  // linear in 1/nu to the normal quantile
  const int lo = int(nu);
  const double w = nu - lo;
  return kTable[lo] + w * (kTable[lo + 1] - kTable[lo]);
}

Comparison compare(std::span<const double> a, std::span<const double> b, bool higher_is_better) {
  Comparison c;
  c.a = mean_std(a);
  c.b = mean_std(b);
  c.difference = c.a.mean - c.b.mean;
  c.threshold = std::numeric_limits<double>::quiet_NaN();
  if (c.a.n < kMinSeeds || c.b.n < kMinSeeds) return c;
  const double va = c.a.std * c.a.std / c.a.n, vb = c.b.std * c.b.std / c.b.n;
  const double se = std::sqrt(va + vb);
  const double nu = se > 0 ? (va + vb) * (va + vb) / (va * va / (c.a.n - 1) + vb * vb / (c.b.n - 1)) : 1e9;
  c.threshold = t_quantile_975(std::max(nu, 1.0)) * se;
  const bool a_higher = c.difference > 0;
  if (!(std::abs(c.difference) > c.threshold)) c.outcome = Outcome::no_difference;
  else c.outcome = a_higher == higher_is_better ? Outcome::a_better : Outcome::b_better;
  return c;
}

std::string Comparison::text() const {
  std::string s = fmt(a.mean) + " ± " + fmt(a.std, 2) + " vs " + fmt(b.mean) + " ± " + fmt(b.std, 2) +
                  " (n = " + std::to_string(a.n) + ", " + std::to_string(b.n) + "): difference " + fmt(difference, 3);
  if (outcome == Outcome::inconclusive) return s + ", fewer than " + std::to_string(kMinSeeds) + " seeds";
  return s + (outcome == Outcome::no_difference ? " within" : " beyond") + " the threshold " + fmt(threshold, 3);
}

}  // namespace seqgrad::experiments
