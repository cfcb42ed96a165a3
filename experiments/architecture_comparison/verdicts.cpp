// The guide's claims about the cells. See verdicts.h.
#include "experiments/architecture_comparison/verdicts.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace seqgrad::architecture_comparison {

namespace {

using experiments::compare;
using experiments::Comparison;
using experiments::fmt;
using experiments::Outcome;

const std::string kRule = std::string(" ") + experiments::kVerdictRuleShort;

// a vs b on the task's primary metric, by the verdict rule.
Comparison on_primary(const TaskOutcome& t, const CellStats& a, const CellStats& b) {
  return compare(a.values(t.primary), b.values(t.primary), t.higher);
}

void append(std::string& measured, const std::string& part) { measured += (measured.empty() ? "" : "; ") + part; }

// Several per-task verdicts as one: any "does not hold" refutes, all "holds" confirm, else inconclusive.
std::string combine(const std::vector<std::string>& verdicts) {
  if (std::find(verdicts.begin(), verdicts.end(), "does not hold") != verdicts.end()) return "does not hold";
  if (std::all_of(verdicts.begin(), verdicts.end(), [](const std::string& v) { return v == "holds"; })) return "holds";
  return "inconclusive";
}

}  // namespace

Claim parameter_claim(const std::vector<TaskOutcome>& tasks) {
  std::string measured;
  bool ok = true, any = false;
  for (const TaskOutcome& t : tasks) {
    const CellStats *l = t.find(CellKind::lstm), *g = t.find(CellKind::gru);
    if (!l || !g) continue;
    any = true;
    const Result &lr = l->seeds.front(), &gr = g->seeds.front();
    const double rec = 1.0 - double(gr.recurrent_parameters) / double(lr.recurrent_parameters);
    const double all = 1.0 - double(gr.num_parameters) / double(lr.num_parameters);
    ok = ok && rec >= 0.20 && rec <= 0.30;
    append(measured, t.task + ": recurrent layer gru " + std::to_string(gr.recurrent_parameters) + " vs lstm " +
                         std::to_string(lr.recurrent_parameters) + " (" + fmt(100 * rec, 3) + "% fewer), whole model " +
                         std::to_string(gr.num_parameters) + " vs " + std::to_string(lr.num_parameters) + " (" +
                         fmt(100 * all, 3) + "% fewer)");
  }
  if (!any) return {};
  return {"GRU has about 25% fewer parameters than LSTM",
          "recurrent layer (nn::Recurrent num_parameters) 20-30% smaller: 3 gate blocks (+ b_hn) instead of 4",
          measured, ok ? "holds" : "does not hold"};
}

namespace {

// Parameters of an nn::Recurrent of `kind` cells, hidden 512, over `layers` layers with input `input`.
int64_t recurrent_parameters(CellKind kind, int64_t input, int64_t layers) {
  Rng rng(0);
  nn::Recurrent net(experiments::cell_factory(kind, 0.0), input, 512, rng, {.num_layers = layers});
  return net.num_parameters();
}

}  // namespace

Claim hidden512_parameter_claim() {
  std::string measured;
  std::vector<std::string> fitting;
  for (int64_t layers : {1, 2}) {
    const int64_t lstm = recurrent_parameters(CellKind::lstm, 512, layers),
                  gru = recurrent_parameters(CellKind::gru, 512, layers);
    const bool fits = std::abs(double(lstm) / 4.2e6 - 1) <= 0.05 && std::abs(double(gru) / 3.1e6 - 1) <= 0.05;
    const std::string config = std::to_string(layers) + (layers == 1 ? " layer" : " layers") + ", input 512";
    append(measured, config + ": lstm " + std::to_string(lstm) + ", gru " + std::to_string(gru));
    if (fits) fitting.push_back(config);
  }
  measured += fitting.empty() ? "; no configuration fits" : "; fits: " + fitting.front();
  return {"For hidden size 512: LSTM ~4.2M parameters, GRU ~3.1M",
          "counted on nn::Recurrent (LSTM; GRU reset-after) with hidden 512 and input 512, 1 and 2 layers: holds "
          "for the configurations within 5% of both figures (one bias per gate; PyTorch's two add 4·512 resp. "
          "3·512 per layer)",
          measured, fitting.empty() ? "does not hold" : "holds"};
}

// Judged on process CPU seconds per training epoch: on a shared machine the wall clock also counts
// the time other processes held the cores.
Claim speed_claim(const std::vector<TaskOutcome>& tasks) {
  std::string measured;
  std::vector<std::string> verdicts;
  for (const TaskOutcome& t : tasks) {
    const CellStats *l = t.find(CellKind::lstm), *g = t.find(CellKind::gru);
    if (!l || !g) continue;
    const Comparison c = compare(g->cpu_seconds(), l->cpu_seconds(), /*higher_is_better=*/false);
    const double faster = c.b.mean > 0 ? 1.0 - c.a.mean / c.b.mean : 0.0;
    const bool differs = c.outcome == Outcome::a_better || c.outcome == Outcome::b_better;
    verdicts.push_back(!differs ? "inconclusive" : faster >= 0.20 && faster <= 0.30 ? "holds" : "does not hold");
    append(measured, t.task + ": gru vs lstm CPU s/epoch " + c.text() + ", speed-up of gru " + fmt(100 * faster, 3) +
                         "% (" + verdicts.back() + ")");
  }
  if (verdicts.empty()) return {};
  return {
      "GRU trains 20-30% faster per epoch than LSTM on CPU",
      "per task, GRU's and LSTM's per-epoch CPU seconds (every epoch of every seed a sample) differ by the rule below, "
      "and 1 - mean_GRU / mean_LSTM is in [20%, 30%]; not different: inconclusive; one task outside refutes it." +
          kRule,
      measured, combine(verdicts)};
}

Claim gru_lstm_claim(const std::vector<TaskOutcome>& tasks) {
  std::string measured;
  int gru = 0, lstm = 0, n = 0;
  bool inconclusive = false;
  for (const TaskOutcome& t : tasks) {
    const CellStats *l = t.find(CellKind::lstm), *g = t.find(CellKind::gru);
    if (!l || !g) continue;
    const Comparison c = on_primary(t, *g, *l);
    ++n;
    gru += c.outcome == Outcome::a_better, lstm += c.outcome == Outcome::b_better;
    inconclusive = inconclusive || c.outcome == Outcome::inconclusive;
    append(measured, t.task + " " + t.primary + ": gru vs lstm " + c.text());
  }
  if (n == 0) return {};
  const bool consistent = n >= 2 && (gru == n || lstm == n);
  const char* verdict = inconclusive || (n == 1 && gru + lstm == 1) ? "inconclusive"
                        : consistent                                ? "does not hold"
                                                                    : "holds";
  return {"neither GRU nor LSTM consistently outperforms the other",
          "per task, GRU vs LSTM on the primary metric; refuted when the same cell is better on every task (2 tasks or "
          "more)." +
              kRule,
          measured, verdict};
}

Claim rnn_claim(const std::vector<TaskOutcome>& tasks) {
  std::string measured;
  std::vector<std::string> verdicts;
  for (const TaskOutcome& t : tasks) {
    const CellStats* r = t.find(CellKind::rnn);
    if (!r) continue;
    for (CellKind gated : {CellKind::lstm, CellKind::gru}) {
      const CellStats* g = t.find(gated);
      if (!g) continue;
      const Comparison c = on_primary(t, *g, *r);
      verdicts.push_back(c.outcome == Outcome::inconclusive ? "inconclusive"
                         : c.outcome == Outcome::a_better   ? "holds"
                                                            : "does not hold");
      append(measured, t.task + " " + t.primary + ": " + cell_name(gated) + " vs rnn " + c.text());
    }
  }
  if (verdicts.empty()) return {};
  return {"LSTM/GRU beat the vanilla RNN",
          "on every task, LSTM and GRU each better than the RNN on the primary metric; a task where one is not refutes "
          "it." +
              kRule,
          measured, combine(verdicts)};
}

std::vector<Claim> judge_claims(const std::vector<TaskOutcome>& tasks) {
  std::vector<Claim> out;
  for (Claim c : {parameter_claim(tasks), hidden512_parameter_claim(), speed_claim(tasks), gru_lstm_claim(tasks),
                  rnn_claim(tasks)})
    if (!c.claim.empty()) out.push_back(std::move(c));
  return out;
}

}  // namespace seqgrad::architecture_comparison
