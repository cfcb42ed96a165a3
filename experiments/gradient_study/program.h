// The gradient_study program as functions that main.cpp and the tests call (put together by
// experiments::study_main): the option table, the parts (each in its own run folder
// <out>/gradient_study/<part>/) and --eval-only.
#pragma once

#include "experiments/common/study.h"

namespace seqgrad::gradient_study {

using experiments::Hooks;
using experiments::Written;

// Declares every option of the program (the full and --quick values in one table).
void declare_options(experiments::Program& program);
// Runs the parts named by --parts with the parsed options; hooks.on_train(key) for each (part, cell
// or theta, seed) training that was not read back with --resume.
Written run_parts(const experiments::Program& program, const Hooks& hooks = {});
// --eval-only: rebuilds every network saved in <out>/gradient_study/networks/checkpoint.sgck under
// the options of that run (its config.ini), recomputes ‖∂L/∂h_k‖ on its probe batch, prints the
// ratio per network and writes networks/metrics/eval_gradient_norms.csv. Returns the number of
// networks evaluated; throws naming the file when the run folder lacks them.
int eval_only(const experiments::Program& program);

// The program: name, description and the three functions above.
experiments::Study study();

}  // namespace seqgrad::gradient_study
