// The long_range program as functions that main.cpp and the tests call (put together by
// experiments::study_main): the option table, one run folder per task (<out>/long_range/<task>/)
// and --eval-only.
#pragma once

#include "experiments/common/study.h"  // shared by the studies; see its head

namespace seqgrad::long_range {

using experiments::Hooks;
using experiments::Written;

// Declares every option of the program (the full and --quick values in one table).
void declare_options(experiments::Program& program);
// Trains and judges every task named by --tasks; hooks.on_train(key) for each (task, cell, T, seed)
// run that was not read back with --resume (from the training threads, one call at a time).
Written run_tasks(const experiments::Program& program, const Hooks& hooks = {});
// --eval-only: for each task of --tasks whose run folder holds checkpoint.sgck, rebuilds every saved
// model under the options of that run (its config.ini), evaluates it on its held-out set, prints the
// held-out metric and writes <task>/metrics/eval_heldout.csv. Returns the number of models
// evaluated; throws when no task folder has saved models.
int eval_only(const experiments::Program& program);

// The program: name, description and the three functions above.
experiments::Study study();

}  // namespace seqgrad::long_range
