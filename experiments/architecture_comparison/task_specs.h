// The program's options and tasks: the option table, which tasks run, their data (the bundled sets or the
// users' --data-* files), loaded, encoded and described BEFORE any training, so a missing or bad
// file fails at once; each task's run folder, title, cells, baselines and data files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "experiments/architecture_comparison/study.h"

namespace seqgrad::architecture_comparison {

// The program's option table (full-run value, then the --quick value where a smoke run differs).
void declare_options(experiments::Program& program);
// --tasks when given; else the tasks whose --data-* the user gave (only --data-series: forecast
// only); else all four.
std::vector<std::string> chosen_tasks(const experiments::Program& program);
// Every chosen task loaded and encoded, in the order of `tasks`. A user's file runs in the folder
// "<task>-<file stem>", so a second data set never replaces the first; the bundled sets in "<task>".
std::vector<TaskSpec> load_tasks(const experiments::Program& program, const std::vector<std::string>& tasks,
                                 const Config& cfg);
// --synthetic-data: four tiny files in the users' formats with learnable structure (sentiment by
// word choice, tags by word, repeated phrases, a noisy sine); deterministic.
void write_synthetic(const std::filesystem::path& dir);

}  // namespace seqgrad::architecture_comparison
