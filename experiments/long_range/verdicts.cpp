// The guide's claims of Experiment 3, judged from one task's runs over seeds: success counts need
// kMinSeeds seeds, and every comparison between cells or lengths is experiments::compare() with the
// rule (kVerdictRuleShort) in the claim's expected text.
#include <algorithm>
#include <string>
#include <vector>

#include "experiments/long_range/parts.h"

namespace seqgrad::long_range {

namespace {

using experiments::Comparison;
using experiments::fmt;
using experiments::Outcome;

std::string pretty(Task task) { return task == Task::adding ? "adding problem" : "temporal-order task"; }

// "gru T=100: solved 3/3 seeds (sequences 12288 ± 2e+03)".
std::string describe(const std::vector<TrainResult>& seeds, int64_t budget) {
  int solved = 0;
  std::vector<double> sequences, accuracy;
  for (const TrainResult& r : seeds) {
    solved += r.solved;
    sequences.push_back(double(r.solved ? r.sequences : budget));
    accuracy.push_back(r.final_accuracy);
  }
  const auto seq = experiments::mean_std(sequences), acc = experiments::mean_std(accuracy);
  return std::string(cell_name(seeds.front().cell)) + " T=" + std::to_string(seeds.front().T) + ": solved " +
         std::to_string(solved) + "/" + std::to_string(seeds.size()) + " seeds, sequences " + fmt(seq.mean) + " ± " +
         fmt(seq.std, 2) + ", held-out acc " + fmt(acc.mean, 4);
}

// Sequences each seed needed to meet the criterion; the budget when it did not.
std::vector<double> needed(const std::vector<TrainResult>& seeds, int64_t budget) {
  std::vector<double> out;
  for (const TrainResult& r : seeds) out.push_back(double(r.solved ? r.sequences : budget));
  return out;
}

std::string seeds_note(const Settings& s) {
  return int(s.seeds.size()) < experiments::kMinSeeds
             ? " [inconclusive: " + std::to_string(s.seeds.size()) + " seed(s) per run (--seeds), the rule needs " +
                   std::to_string(experiments::kMinSeeds) + "]"
             : "";
}

// Several comparisons that must all favour their A side: inconclusive when any lacks seeds, holds
// when every one favours A, does not hold otherwise.
const char* all_favour_a(const std::vector<Comparison>& comparisons) {
  bool all = true;
  for (const Comparison& c : comparisons) {
    if (c.outcome == Outcome::inconclusive) return "inconclusive";
    all = all && c.outcome == Outcome::a_better;
  }
  return all ? "holds" : "does not hold";
}

}  // namespace

Claim gated_claim(const TaskRuns& runs, const Settings& s, Task task) {
  const int64_t budget = s.budget.at(task);
  int total = 0, ok = 0;
  std::string measured;
  for (const auto& [key, seeds] : runs)
    if (key.second >= 100 && (key.first == CellKind::lstm || key.first == CellKind::gru)) {
      for (const TrainResult& r : seeds) total += 1, ok += r.solved;
      measured += (measured.empty() ? "" : "; ") + describe(seeds, budget);
    }
  const bool enough = int(s.seeds.size()) >= experiments::kMinSeeds;
  const char* verdict = total == 0 || !enough ? "inconclusive"
                        : ok == total         ? "holds"
                        : ok == 0             ? "does not hold"
                                              : "inconclusive";
  return {"LSTM and GRU (reset-after form) solve the " + pretty(task) + " at T = 100 and beyond",
          "every LSTM and GRU run with T >= 100 meets the criterion within " + std::to_string(budget) +
              " sequences, over at least " + std::to_string(experiments::kMinSeeds) + " seeds",
          total ? measured + " (" + std::to_string(ok) + "/" + std::to_string(total) + " runs solved)" + seeds_note(s)
                : "no run with T >= 100",
          verdict};
}

Claim elman_claim(const TaskRuns& runs, const Settings& s, Task task) {
  const int64_t budget = s.budget.at(task);
  const std::string claim = "the vanilla RNN fails on the " + pretty(task) + " as T grows";
  const std::string expected =
      "sequences needed to meet the criterion (the budget " + std::to_string(budget) +
      " when not met), over seeds: "
      "Elman needs more at the longest T than at the shortest, and more than LSTM and GRU at the longest T. " +
      std::string(experiments::kVerdictRuleShort);
  const int64_t t_min = *std::min_element(s.lengths.begin(), s.lengths.end());
  const int64_t t_max = *std::max_element(s.lengths.begin(), s.lengths.end());
  const auto at = [&](CellKind cell, int64_t T) { return runs.find({cell, T}); };
  if (t_min == t_max || at(CellKind::rnn, t_min) == runs.end())
    return {claim, expected, "needs Elman runs at two or more lengths", "inconclusive"};
  const std::vector<TrainResult>& longest = at(CellKind::rnn, t_max)->second;
  std::vector<Comparison> c = {
      experiments::compare(needed(longest, budget), needed(at(CellKind::rnn, t_min)->second, budget), true)};
  std::string measured = describe(at(CellKind::rnn, t_min)->second, budget) + "; " + describe(longest, budget) +
                         "; longest vs shortest: " + c[0].text();
  for (CellKind gated : {CellKind::lstm, CellKind::gru})
    if (at(gated, t_max) != runs.end()) {
      c.push_back(experiments::compare(needed(longest, budget), needed(at(gated, t_max)->second, budget), true));
      measured +=
          "; " + describe(at(gated, t_max)->second, budget) + ", elman vs " + cell_name(gated) + ": " + c.back().text();
    }
  bool any_solved = false;
  for (const auto& [key, seeds] : runs)
    for (const TrainResult& r : seeds) any_solved = any_solved || (key.first == CellKind::rnn && r.solved);
  if (!any_solved)
    return {claim, expected, measured + " (Elman solved no length within the budget: length and budget not separable)",
            "inconclusive"};
  return {claim, expected, measured + seeds_note(s), all_favour_a(c)};
}

}  // namespace seqgrad::long_range
