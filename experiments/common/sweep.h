// Distributed sweeps (issue 14): an experiment program started by `mpirun -np N` (or `srun`) divides
// its units of work — UnitStore units, one training each — across the N ranks, longest first. Every
// rank runs the same program; rank 0 alone writes the run folders (a Run on another rank writes to a
// private scratch folder it deletes), and every rank reads every finished unit back, so all ranks go
// on with the same results and rank 0's metrics.json and CSVs are bitwise a single process's. A
// rank's finished units stay in <run>/units/, so a job that lost a rank continues with --resume.
// Without MPI (a build without seqgrad::dist, or a program not started by an MPI launcher) there is
// one rank and nothing changes.
//
//   experiments::Ranks ranks(argc, argv);            // first thing in main (study_main does it)
//   experiments::check_same_config(program);         // after parsing: every rank, the same options
//   std::vector<experiments::Unit> units;
//   units.push_back({"lstm_seed1", steps * T * 4 * H * H, [&] { return to_checkpoint(train(...)); }});
//   const std::vector<nn::Checkpoint> done = experiments::train_units(store, units);  // in units' order
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "experiments/common/options.h"
#include "experiments/common/run_folder.h"
#include "nn/io/checkpoint.h"

namespace seqgrad::experiments {

// MPI for the life of main when an MPI launcher started the process (Open MPI's mpirun/mpiexec,
// srun, any PMI launcher) and seqgrad::dist was built; otherwise nothing. Ranks other than 0 send
// stdout to /dev/null: rank 0 prints the results, and every rank's errors and progress lines
// (prefixed "rank <r>: ") go to stderr.
class Ranks {
 public:
  Ranks(int& argc, char**& argv);
  ~Ranks();
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;
};

int rank();        // this process's rank: 0 without MPI
int rank_count();  // the number of ranks: 1 without MPI
inline bool is_root() { return rank() == 0; }

// Runs `work` on every rank (or on `only_rank` alone when >= 0), then every rank waits for the others;
// if it threw anywhere, every rank throws "<what>: rank <r>: <message>" (the lowest failing rank).
void agree(const std::string& what, const std::function<void()>& work = {}, int only_rank = -1);

// Every rank must run the same configuration (the resolved options but --threads): otherwise throws
// on every rank, naming the first rank and option that differ from rank 0's. Also throws when an MPI
// launcher started several ranks but this build has no MPI (each would run the whole sweep).
void check_same_config(const Program& program);

// One unit of work: its UnitStore key, an estimate of its cost (any scale, compared only with the
// other units' of the same sweep) and the training that returns its unit checkpoint.
struct Unit {
  std::string key;
  double cost = 1;
  std::function<nn::Checkpoint()> train;
};

struct SweepOptions {
  // true: a rank trains its units two or more at a time on TBB threads, longest first (each isolated);
  // false: one at a time, in the order given.
  bool parallel = false;
  std::function<void(const std::vector<size_t>& mine)> on_start = {};  // the units this rank will train
  std::function<void(const std::string& key)> on_trained = {};         // after one is saved (one at a time)
  std::function<void(const std::string& key)> on_resumed = {};         // a unit finished by an earlier run
};

// The rank that trains each unit: longest processing time first — by cost, highest first (ties by
// key), each to the rank with the least cost so far (ties: the lowest rank). The same on every rank.
std::vector<int> assign_units(const std::vector<Unit>& units, int ranks);

// Reads back the units already in the store (--resume), trains the others across the ranks (each
// saved to the store by the rank that trained it), then reads every unit the other ranks trained:
// returns every unit's checkpoint, in the order of `units`, on every rank. A failure on any rank is an
// error on every rank. For tests, SEQGRAD_SWEEP_KILL=<rank>:<n> makes that rank SIGKILL itself after
// saving its n-th unit.
std::vector<nn::Checkpoint> train_units(const UnitStore& store, const std::vector<Unit>& units,
                                        const SweepOptions& options = {});

}  // namespace seqgrad::experiments
