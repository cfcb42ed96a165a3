// Experiment 3: long-range memory. Two pathological tasks of Hochreiter & Schmidhuber (1997), each
// solved (or not) by an Elman RNN, an LSTM and a GRU at growing sequence lengths T:
//   adding problem   (H&S §5.4): regress 0.5 + (X1 + X2)/4 from the two marked values;
//                    a sequence is correct when |prediction − target| < 0.04; solved at >= 99%.
//   temporal order   (H&S §5.6, Pascanu et al. 2013): classify the order (XX, XY, YX, YY) of two
//                    symbols hidden among distractors; solved when the held-out error is < 1%.
// Pure computations returning plain structs (no files, no printing), so the tests call them
// directly and the program (experiments/long_range/main.cpp) only logs, plots and judges them.
// Everything random comes from Rngs seeded by the caller's seed: same seed ⇒ same bits.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "autograd/rng.h"
#include "autograd/tensor.h"
#include "experiments/common/cells.h"
#include "nn/io/checkpoint.h"
#include "tasks/tasks.h"

namespace seqgrad::long_range {

using experiments::cell_name;
using experiments::CellKind;
using experiments::parse_cell;

enum class Task { adding, temporal_order };
const char* task_name(Task task);          // "adding", "temporal_order"
Task parse_task(const std::string& name);  // throws std::invalid_argument on anything else

// The tasks' generators and criteria are the installed library's (tasks/tasks.h): the adding
// problem in H&S 1997's version (tasks::adding_problem_hs97) and temporal order (tasks::temporal_order).
using tasks::Batch;
Batch make_batch(Task task, Rng& rng, int64_t batch, int64_t T);
int64_t input_size(Task task);   // 2 or 8
int64_t output_size(Task task);  // 1 or 4
// adding: tasks::adding_accuracy >= 99%; temporal order: held-out error (1 − classification accuracy) < 1%.
bool solved(Task task, double accuracy);

// ---- training -------------------------------------------------------------------------------------

struct TrainConfig {
  Task task = Task::adding;
  CellKind cell = CellKind::lstm;
  int64_t T = 50;
  int64_t hidden = 32;
  int64_t batch = 32;
  double lr = 3e-3;           // Adam
  double clip = 1.0;          // clip-by-norm (0 = off)
  double forget_bias = 1.0;   // LSTM forget-gate bias
  bool chrono = false;        // LSTM: chrono initialisation of its gate biases with T_max = T (nn::chrono_init)
  int64_t budget = 20000;     // training sequences at most (rounded up to whole batches)
  int64_t eval_every = 1024;  // sequences between held-out evaluations (rounded up to whole batches)
  int64_t heldout = 1000;     // fixed held-out sequences per (task, T), the same for every cell
  int64_t eval_batch = 250;   // held-out sequences per forward pass (memory, not results)
  uint64_t seed = 1;
  std::function<void(int64_t sequences, double train_loss)> on_eval = {};  // after each evaluation
  // When set: an optim::Resumable checkpoint of the training (model, Adam, data stream, curve, time
  // so far), written atomically after every evaluation. A training started with an existing file
  // resumes from it and ends bitwise where an uninterrupted one ends; a file written under another
  // checkpoint_config is an error naming it. The caller removes the file when the run is saved.
  std::string checkpoint = "";
  std::string checkpoint_config = "";
};
void validate(const TrainConfig& cfg);  // throws std::invalid_argument naming the bad field and value

struct CurvePoint {
  int64_t sequences = 0;  // training sequences seen before this evaluation
  double accuracy = 0;    // held-out: fraction correct (adding) or classified right (order)
  double loss = 0;        // held-out MSE (adding) or cross-entropy (order)
  double train_loss = 0;  // mean training-batch loss since the previous evaluation (NaN at 0)
};

struct TrainResult {
  Task task = Task::adding;
  CellKind cell = CellKind::lstm;
  int64_t T = 0;
  int64_t num_parameters = 0;
  bool solved = false;
  int64_t sequences = 0;  // sequences seen when the criterion was first met, else when the budget ran out
  double final_accuracy = 0, final_loss = 0;  // at the last evaluation
  double best_accuracy = 0;
  bool diverged = false;                     // a non-finite training loss stopped the run
  std::vector<CurvePoint> curve;             // the first point is the untrained model
  std::map<std::string, Tensor> parameters;  // the trained model's parameters by name (for checkpoints)
  double seconds = 0;                        // wall clock of the training, earlier stretches included
};

// The held-out set of (task, T): derived from seed, task and T only.
std::vector<Batch> heldout_set(Task task, int64_t T, int64_t size, int64_t chunk, uint64_t seed);

// Model (from seed and cell), training stream (from seed, task, T) and held-out set are fixed by
// the config, so every cell of one (task, T) sees the same data. Evaluates at 0 sequences and every
// eval_every sequences, stops as soon as the criterion holds or after budget sequences.
TrainResult train(const TrainConfig& cfg);

// ---- saved results: UnitStore units (--resume) and saved models (--eval-only) ------------------

struct Evaluation {
  double accuracy = 0, loss = 0;  // held-out, as CurvePoint
};
// The model of cfg (task, cell, hidden) rebuilt from the parameters "<prefix><name>" of a checkpoint,
// evaluated on the held-out set of cfg (task, T, heldout, seed): for a model saved by train(), the
// bits of its last CurvePoint. Throws (naming the tensor) when the parameters do not fit.
Evaluation evaluate_saved(const TrainConfig& cfg, const nn::Checkpoint& ckpt, const std::string& prefix);
// A finished run (and its wall-clock seconds) as a unit checkpoint and back, bit for bit.
nn::Checkpoint train_unit(const TrainResult& r, double seconds);
TrainResult result_from_unit(const nn::Checkpoint& unit, double* seconds);

}  // namespace seqgrad::long_range
