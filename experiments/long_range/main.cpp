// long_range — Experiment 3: long-range memory on the adding problem and the temporal-order task
// (Hochreiter & Schmidhuber 1997; Pascanu, Mikolov & Bengio 2013). For every cell (Elman, LSTM, GRU
// in the reset-after form), length T and seed (--seeds): Adam + clip-by-norm on fresh batches, a
// fixed held-out set per (task, T, seed), stop at the success criterion or at the task's sequence
// budget (the same for every run of a task).
// Two run folders under <out>/long_range/:
//   adding/          criterion: >= 99% of held-out sequences with |prediction − target| < 0.04
//   temporal_order/  criterion: held-out classification error < 1%
// Each has config.ini, env.json, metrics/{curves,summary,timing,cells}.csv, plots/accuracy.png,
// plots/loss.png, metrics.json (no timings: bitwise repeatable), claims.json (comparisons by
// experiments::compare over seeds) and checkpoint.sgck (every trained model). Every run is a unit in
// <run>/units/, so --resume skips the finished ones; --eval-only re-evaluates the saved models.
//   long_range --quick                                          # about a minute on 2 idle cores
//   long_range --config experiments/long_range/full.ini      # the full suite, hours
//   long_range --quick --lengths 12 --hidden 8 --adding-budget 64 --order-budget 64 --eval-every 32
//              --heldout 32 --verify                           # the CTest smoke run, under a second
#include "experiments/long_range/program.h"

// The study's option table, parts and --eval-only: see program.h (and parts.h for what each part does).
int main(int argc, char** argv) { return seqgrad::experiments::study_main(seqgrad::long_range::study(), argc, argv); }
