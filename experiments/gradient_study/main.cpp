// gradient_study — Experiment 1 (issue #5): vanishing and exploding gradients, measured.
// Four run folders under <out>/gradient_study/:
//   scalar/    h_t = w·h_{t−1}: ∂h_T/∂h_k by our backward next to w^(T−k) (log-scale plot per w)
//   networks/  ‖∂L/∂h_k‖ vs k for Elman, LSTM, GRU (reset-after) at init and after training on the
//              adding problem, --seeds seeds each
//   spectral/  Elman with W_hh = ρ·orthogonal: norms vs k per ρ, γ = mean tanh′, ρ·γ, measured factor
//   clipping/  the exploding setting (ρ = 1.5, high SGD lr) without clipping and with θ = 1, 5, per seed
// Each run folder has config.ini, env.json, metrics/*.csv (cells.csv: the form of each cell),
// plots/*.png, metrics.json and claims.json (the guide's claims with expected, measured and a
// verdict: comparisons by experiments::compare over seeds). Every training is a unit in
// <run>/units/, so --resume skips the finished ones; --eval-only re-measures the saved networks.
//   gradient_study --quick                        # a few seconds on 2 cores
//   gradient_study --config experiments/gradient_study/full.ini
//   gradient_study --quick --T 10 --train-steps 20 --verify   # the CTest smoke run
#include "experiments/gradient_study/program.h"

// The study's option table, parts and --eval-only: see program.h (and parts.h for what each part does).
int main(int argc, char** argv) {
  return seqgrad::experiments::study_main(seqgrad::gradient_study::study(), argc, argv);
}
