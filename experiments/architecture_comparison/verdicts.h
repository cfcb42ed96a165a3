// The guide's claims about the cells, judged across the tasks of a run. Every comparison uses ONE
// rule, experiments::compare() (claims.h: fewer than 3 seeds -> inconclusive, else Welch's t-test
// at 5%), and states it (kVerdictRule) in its "expected" text.
#pragma once

#include <vector>

#include "experiments/architecture_comparison/study.h"
#include "experiments/common/claims.h"

namespace seqgrad::architecture_comparison {

using experiments::Claim;

// "GRU has about 25% fewer parameters than LSTM": the recurrent layers' counts, 20-30% fewer.
Claim parameter_claim(const std::vector<TaskOutcome>& tasks);
// "For hidden size 512: LSTM ~4.2M parameters, GRU ~3.1M": counted on nn::Recurrent modules built
// with hidden 512 (LSTM, and the GRU in the reset-after form), one and two layers, input 512; holds
// for the configurations within 5% of both figures, which the measured text names.
Claim hidden512_parameter_claim();
// "GRU trains 20-30% faster per epoch": per task, GRU's vs LSTM's per-epoch CPU seconds (every
// epoch of every seed a sample) by compare(); a task is inconclusive when they do not differ
// beyond timing noise (or < 3 samples), else holds iff 1 − mean_GRU / mean_LSTM is in [20%, 30%].
// Overall: any task that does not hold refutes it; it holds when every task holds.
Claim speed_claim(const std::vector<TaskOutcome>& tasks);
// "neither GRU nor LSTM consistently outperforms the other": per task compare(GRU, LSTM) on the
// primary metric; does not hold when one of them is better on every task (two tasks or more).
Claim gru_lstm_claim(const std::vector<TaskOutcome>& tasks);
// "LSTM/GRU beat the vanilla RNN": holds when on every task both are better than the RNN.
Claim rnn_claim(const std::vector<TaskOutcome>& tasks);
// The claims the tasks have cells for, in the order above.
std::vector<Claim> judge_claims(const std::vector<TaskOutcome>& tasks);

}  // namespace seqgrad::architecture_comparison
