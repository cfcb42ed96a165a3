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

}  // namespace seqgrad::experiments
