// Everything an experiment program's main needs, by concern: options (options.h), the run folder
// (run_folder.h), plots (plot.h), the progress line (progress.h), claims and verdicts (claims.h),
// the units of work divided across MPI ranks (sweep.h).
#pragma once

#include "experiments/common/claims.h"
#include "experiments/common/io.h"
#include "experiments/common/options.h"
#include "experiments/common/plot.h"
#include "experiments/common/progress.h"
#include "experiments/common/run_folder.h"
#include "experiments/common/sweep.h"
