// The guide's claims as a study judges them: claims.json in a run folder, and the statistics and
// verdict rules every study uses, so a verdict always rests on several seeds and a stated rule.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace seqgrad::experiments {

class Run;

// One claim of the guide, checked by an experiment. verdict: "holds", "does not hold" or
// "inconclusive".
struct Claim {
  std::string claim, expected, measured, verdict;
};

// <run>/claims.json: a JSON list of {"claim", "expected", "measured", "verdict"}. Throws
// std::invalid_argument for a verdict outside the three above, naming the claim.
void write_claims(const Run& run, const std::vector<Claim>& claims);
void write_claims(const std::filesystem::path& run_dir, const std::vector<Claim>& claims);
std::vector<Claim> read_claims(const std::filesystem::path& claims_json);

struct MeanStd {
  double mean = 0, std = 0;  // std: sample standard deviation (n − 1); 0 for one value
  int n = 0;                 // number of values (seeds)
};
MeanStd mean_std(std::span<const double> values);  // throws on no values

// ---- the verdict rule ----------------------------------------------------------------------------
// Every comparison claim is judged by ONE stated rule (kVerdictRule, written into each report):
// with fewer than kMinSeeds values on either side the comparison is inconclusive; otherwise A
// differs from B when Welch's two-sided t-test rejects equal means at the 5% level, i.e. when
// |mean_A − mean_B| > t(0.975, ν) · sqrt(s_A²/n_A + s_B²/n_B), ν by Welch–Satterthwaite. Timing
// claims use the same rule on per-epoch times, so a speed difference must exceed timing noise.
inline constexpr int kMinSeeds = 3;
extern const char* const kVerdictRule;
// The rule in a few words, for a claim's expected text (the report states kVerdictRule in full).
extern const char* const kVerdictRuleShort;

enum class Outcome { a_better, b_better, no_difference, inconclusive };
struct Comparison {
  Outcome outcome = Outcome::inconclusive;
  MeanStd a, b;
  double difference = 0;  // mean_A − mean_B
  double threshold = 0;   // the |difference| the rule requires (NaN when inconclusive)
  // "0.781 ± 0.011 vs 0.770 ± 0.020 (n = 3, 3): difference 0.011 within the threshold 0.052".
  std::string text() const;
};
// A vs B on samples `a` and `b`; higher_is_better says which direction "better" is.
Comparison compare(std::span<const double> a, std::span<const double> b, bool higher_is_better);
// Two-sided 97.5% quantile of Student's t with ν degrees of freedom (ν ≥ 1; table to 30, then
// interpolated in 1/ν towards the normal 1.95996).
double t_quantile_975(double nu);

}  // namespace seqgrad::experiments
