// Distributed sweeps: the ranks (MPI through seqgrad::dist when built with it) and train_units. See
// sweep.h.
#include "experiments/common/sweep.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>

#ifdef SEQGRAD_WITH_DIST
#include "dist/communicator.h"
#endif

namespace seqgrad::experiments {

namespace {

#ifdef SEQGRAD_WITH_DIST
std::unique_ptr<dist::Environment> mpi_environment;
std::unique_ptr<dist::Communicator> mpi_world;  // null: one rank
#endif

// The number of ranks the launcher started (0: not started by an MPI launcher). Open MPI's mpirun
// sets OMPI_COMM_WORLD_SIZE, MPICH's PMI_SIZE, Slurm's srun --mpi=pmix PMIX_RANK (size unknown: 1).
int launched_ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) return std::max(1, std::atoi(v));
  return std::getenv("PMIX_RANK") ? 1 : 0;
}

// Every rank's text, by rank (one rank: just this one's).
std::vector<std::string> allgather(const std::string& text) {
#ifdef SEQGRAD_WITH_DIST
  if (mpi_world) return mpi_world->allgather(text);
#endif
  return {text};
}

// A resolved config's lines but comments and --threads (the thread count does not change results).
std::vector<std::string> config_lines(const std::string& config) {
  std::istringstream in(config);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.starts_with("#") && !line.starts_with("threads ") && !line.starts_with("threads=")) lines.push_back(line);
  return lines;
}

// The first line where `theirs` differs from `ours`, as "'<theirs>' where rank 0 has '<ours>'".
std::string first_difference(const std::vector<std::string>& ours, const std::vector<std::string>& theirs) {
  for (size_t i = 0; i < std::max(ours.size(), theirs.size()); ++i) {
    const std::string a = i < ours.size() ? ours[i] : "(nothing)", b = i < theirs.size() ? theirs[i] : "(nothing)";
    if (a != b) return "'" + b + "' where rank 0 has '" + a + "'";
  }
  return "the same lines in another form";
}

// SEQGRAD_SWEEP_KILL=<rank>:<n>: this rank's n, or 0 (for tests: a rank lost mid-sweep).
int64_t kill_after() {
  const char* v = std::getenv("SEQGRAD_SWEEP_KILL");
  if (!v) return 0;
  const std::string text = v;
  const size_t colon = text.find(':');
  if (colon == std::string::npos || std::atoi(text.substr(0, colon).c_str()) != rank()) return 0;
  return std::atoll(text.c_str() + colon + 1);
}

}  // namespace

// ---- the ranks -----------------------------------------------------------------------------------

Ranks::Ranks([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
#ifdef SEQGRAD_WITH_DIST
  if (launched_ranks() == 0 || mpi_world) return;
  mpi_environment = std::make_unique<dist::Environment>(argc, argv);
  mpi_world = std::make_unique<dist::Communicator>();
  if (!mpi_world->is_root() && !std::freopen("/dev/null", "w", stdout))
    std::fprintf(stderr, "rank %d: cannot silence stdout\n", mpi_world->rank());
#endif
}

Ranks::~Ranks() {
#ifdef SEQGRAD_WITH_DIST
  mpi_world.reset();
  mpi_environment.reset();  // MPI_Finalize
#endif
}

int rank() {
#ifdef SEQGRAD_WITH_DIST
  if (mpi_world) return mpi_world->rank();
#endif
  return 0;
}

int rank_count() {
#ifdef SEQGRAD_WITH_DIST
  if (mpi_world) return mpi_world->size();
#endif
  return 1;
}

void agree(const std::string& what, const std::function<void()>& work, int only_rank) {
#ifdef SEQGRAD_WITH_DIST
  if (mpi_world)
    return mpi_world->agree(
        what, work ? work : [] {}, only_rank);
#endif
  if (work && only_rank <= 0) work();  // one rank: errors propagate as they are
}

void check_same_config(const Program& program) {
  if (const int launched = launched_ranks(); rank_count() == 1 && launched > 1)
    throw std::runtime_error("started as one of " + std::to_string(launched) +
                             " ranks, but this build has no MPI (seqgrad::dist): each rank would run the whole "
                             "sweep; install openmpi-bin libopenmpi-dev libboost-mpi-dev and rebuild");
  std::string text;
  for (const std::string& line : config_lines(program.resolved_config())) text += line + "\n";
  const std::vector<std::string> all = allgather(text);
  for (size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0])
      throw std::invalid_argument("the ranks run different configurations: rank " + std::to_string(r) + " has " +
                                  first_difference(config_lines(all[0]), config_lines(all[r])) +
                                  " (start every rank with the same options)");
}

// ---- the sweep -----------------------------------------------------------------------------------

std::vector<int> assign_units(const std::vector<Unit>& units, int ranks) {
  std::vector<size_t> order(units.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return units[a].cost != units[b].cost ? units[a].cost > units[b].cost : units[a].key < units[b].key;
  });
  std::vector<double> load(size_t(std::max(ranks, 1)), 0.0);
  std::vector<int> owner(units.size(), 0);
  for (size_t i : order) {
    const int r = int(std::min_element(load.begin(), load.end()) - load.begin());  // first of the least loaded
    owner[i] = r;
    load[size_t(r)] += units[i].cost;
  }
  return owner;
}

namespace {

// Trains units[mine...] (one at a time in the given order, or in parallel longest first), saving each.
void train_mine(const UnitStore& store, const std::vector<Unit>& units, std::vector<size_t> mine,
                std::vector<std::optional<nn::Checkpoint>>& done, const SweepOptions& o) {
  std::mutex mutex;
  const int64_t kill = kill_after();
  int64_t saved = 0;
  auto one = [&](size_t i) {
    nn::Checkpoint unit = units[i].train();
    store.save(units[i].key, unit);
    std::lock_guard<std::mutex> lock(mutex);
    done[i] = std::move(unit);
    if (o.on_trained) o.on_trained(units[i].key);
    if (++saved == kill) std::raise(SIGKILL);
  };
  if (!o.parallel) {
    for (size_t i : mine) one(i);
    return;
  }
  std::stable_sort(mine.begin(), mine.end(), [&](size_t a, size_t b) { return units[a].cost > units[b].cost; });
  // simple_partitioner: one task per unit, so idle threads steal single units; isolate: a waiting
  // thread never picks up another unit inside a unit's kernels (thread-local scratch stays its own).
  tbb::parallel_for(
      tbb::blocked_range<size_t>(0, mine.size(), 1),
      [&](const tbb::blocked_range<size_t>& range) {
        for (size_t k = range.begin(); k != range.end(); ++k) tbb::this_task_arena::isolate([&] { one(mine[k]); });
      },
      tbb::simple_partitioner());
}

}  // namespace

std::vector<nn::Checkpoint> train_units(const UnitStore& store, const std::vector<Unit>& units, const SweepOptions& o) {
  std::vector<std::optional<nn::Checkpoint>> done(units.size());
  agree("units/");  // rank 0 has made <run>/units/ (and emptied it without --resume)
  agree("--resume: reading units/", [&] {
    for (size_t i = 0; i < units.size(); ++i) done[i] = store.find(units[i].key);
  });
  std::vector<Unit> todo;  // the units to train, and their indices in `units`
  std::vector<size_t> index;
  for (size_t i = 0; i < units.size(); ++i)
    if (!done[i]) todo.push_back(units[i]), index.push_back(i);
    else if (o.on_resumed) o.on_resumed(units[i].key);
  const std::vector<int> owner = assign_units(todo, rank_count());
  std::vector<size_t> mine;
  for (size_t k = 0; k < todo.size(); ++k)
    if (owner[k] == rank()) mine.push_back(index[k]);
  if (o.on_start) o.on_start(mine);
  agree("training units", [&] { train_mine(store, units, mine, done, o); });
  agree("reading the other ranks' units", [&] {
    for (size_t i = 0; i < units.size(); ++i)
      if (!done[i]) done[i] = store.load(units[i].key);
  });
  std::vector<nn::Checkpoint> out;
  for (auto& unit : done) out.push_back(std::move(*unit));
  return out;
}

}  // namespace seqgrad::experiments
