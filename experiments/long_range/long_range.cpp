// Experiment 3 computations: see long_range.h. A cell + Linear head on the final state, trained
// with Adam and clip-by-norm on fresh batches, judged on a fixed held-out set.
#include "experiments/long_range/long_range.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>

#include "autograd/ops.h"
#include "nn/cells.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "nn/io/safetensors.h"  // module_tensors
#include "optim/optim.h"

namespace seqgrad::long_range {

namespace {

// Independent streams from one seed (golden-ratio offsets); the task and T are mixed in so each
// (task, T) has its own training stream and held-out set.
constexpr uint64_t kDataStream = 0x9E3779B97F4A7C15ull, kHeldoutStream = 0x3C6EF372FE94F82Aull;

uint64_t stream_seed(uint64_t seed, uint64_t stream, Task task, int64_t T) {
  return seed + stream + 0x100000001B3ull * (uint64_t(T) * 2 + uint64_t(task == Task::temporal_order));
}

// cell over x (B, T, I), a Linear head on the final h: (B, 1) prediction or (B, 4) logits.
struct Model : nn::Module {
  std::unique_ptr<nn::Cell> cell;
  nn::Linear head;
  Model(Task task, std::unique_ptr<nn::Cell> c, Rng& rng)
      : cell(std::move(c)), head(cell->hidden_size(), output_size(task), rng) {
    register_module("cell", *cell);
    register_module("head", head);
  }
  Var output(Tape& tape, const Batch& batch) { return head(nn::unroll(*cell, tape.constant(batch.x)).final.h); }
  Var loss(Task task, const Var& out, Tape& tape, const Batch& batch) {
    return task == Task::adding ? mse(out, tape.constant(batch.target)) : cross_entropy(out, batch.labels);
  }
};

// Held-out accuracy and mean loss over every chunk, without recording backward.
Evaluation evaluate(Task task, Model& model, const std::vector<Batch>& heldout) {
  NoGradGuard no_grad;
  Tape tape;
  double correct = 0, loss = 0;
  int64_t n = 0;
  for (const Batch& b : heldout) {
    tape.reset();
    Var out = model.output(tape, b);
    const int64_t rows = b.x.size(0);
    const std::vector<double> values = out.value().to_vector();
    const double acc = task == Task::adding ? tasks::adding_accuracy(values, b.target.to_vector())
                                            : tasks::classification_accuracy(values, b.labels, tasks::kOrderClasses);
    correct += acc * double(rows);
    loss += model.loss(task, out, tape, b).item() * double(rows);
    n += rows;
  }
  return {correct / double(n), loss / double(n)};
}

int64_t round_up(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

// The run's cell, its gate biases by chrono initialisation when asked (LSTM only).
std::unique_ptr<nn::Cell> new_cell(const TrainConfig& cfg, Rng& rng) {
  std::unique_ptr<nn::Cell> cell =
      experiments::make_cell(cfg.cell, input_size(cfg.task), cfg.hidden, rng, cfg.forget_bias);
  if (cfg.chrono && cfg.cell == CellKind::lstm) nn::chrono_init(static_cast<nn::Lstm&>(*cell), double(cfg.T), rng);
  return cell;
}

}  // namespace

const char* task_name(Task task) { return task == Task::adding ? "adding" : "temporal_order"; }

Task parse_task(const std::string& name) {
  if (name == "adding") return Task::adding;
  if (name == "temporal_order" || name == "order") return Task::temporal_order;
  throw std::invalid_argument("unknown task '" + name + "' (expected adding or temporal_order)");
}

// ---- tasks and criteria -------------------------------------------------------------------------

Batch make_batch(Task task, Rng& rng, int64_t batch, int64_t T) {
  return task == Task::adding ? tasks::adding_problem_hs97(rng, batch, T) : tasks::temporal_order(rng, batch, T);
}
int64_t input_size(Task task) { return task == Task::adding ? 2 : int64_t(tasks::num_symbols); }
int64_t output_size(Task task) { return task == Task::adding ? 1 : tasks::kOrderClasses; }

bool solved(Task task, double accuracy) {
  return task == Task::adding ? accuracy >= tasks::kAddingSolved : 1.0 - accuracy < tasks::kOrderMaxError;
}

// ---- training -------------------------------------------------------------------------------------

void validate(const TrainConfig& c) {
  auto bad = [](const std::string& what, const std::string& value) {
    throw std::invalid_argument("long_range: " + what + ", got " + value);
  };
  auto whole = [&](const char* what, int64_t v, int64_t min) {
    if (v < min) bad(std::string(what) + " must be >= " + std::to_string(min), std::to_string(v));
  };
  whole(c.task == Task::adding ? "T (adding)" : "T (temporal_order)", c.T, c.task == Task::adding ? 4 : 10);
  whole("hidden", c.hidden, 1);
  whole("batch", c.batch, 1);
  whole("budget", c.budget, 0);
  whole("eval_every", c.eval_every, 1);
  whole("heldout", c.heldout, 1);
  whole("eval_batch", c.eval_batch, 1);
  if (!(c.lr > 0) || !std::isfinite(c.lr)) bad("lr must be finite and > 0", std::to_string(c.lr));
  if (!(c.clip >= 0) || !std::isfinite(c.clip)) bad("clip must be finite and >= 0", std::to_string(c.clip));
}

std::vector<Batch> heldout_set(Task task, int64_t T, int64_t size, int64_t chunk, uint64_t seed) {
  Rng rng(stream_seed(seed, kHeldoutStream, task, T));
  std::vector<Batch> set;
  for (int64_t done = 0; done < size; done += chunk)
    set.push_back(make_batch(task, rng, std::min(chunk, size - done), T));
  return set;
}

namespace {

// The curve's four series as a Resumable's histories, and back.
constexpr const char* kCurveSeries[] = {"sequences", "accuracy", "loss", "train_loss"};

void remember(optim::Resumable& run, const CurvePoint& p, double seconds) {
  const double values[] = {double(p.sequences), p.accuracy, p.loss, p.train_loss};
  for (int i = 0; i < 4; ++i) run.history(kCurveSeries[i]).push_back(values[i]);
  run.history("seconds").push_back(seconds);
}

std::vector<CurvePoint> recalled_curve(optim::Resumable& run) {
  std::vector<CurvePoint> curve;
  for (size_t i = 0; i < run.history("sequences").size(); ++i)
    curve.push_back({int64_t(run.history("sequences")[i]), run.history("accuracy")[i], run.history("loss")[i],
                     run.history("train_loss")[i]});
  return curve;
}

// r's summary after evaluation point p.
void summarise(TrainResult& r, Task task, const CurvePoint& p) {
  r.final_accuracy = p.accuracy;
  r.final_loss = p.loss;
  r.best_accuracy = std::max(r.best_accuracy, p.accuracy);
  r.sequences = p.sequences;
  r.solved = solved(task, p.accuracy);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TrainResult train(const TrainConfig& cfg) {
  validate(cfg);
  const auto start = std::chrono::steady_clock::now();
  Rng model_rng(cfg.seed), data_rng(stream_seed(cfg.seed, kDataStream, cfg.task, cfg.T));
  Model model(cfg.task, new_cell(cfg, model_rng), model_rng);
  const std::vector<Batch> heldout = heldout_set(cfg.task, cfg.T, cfg.heldout, cfg.eval_batch, cfg.seed);
  const auto params = model.named_parameters();
  optim::Adam adam(params, {.lr = cfg.lr});
  std::optional<optim::Resumable> run;
  if (!cfg.checkpoint.empty())
    run.emplace(cfg.checkpoint, model, adam, std::vector<std::pair<std::string, Rng*>>{{"data", &data_rng}},
                optim::ResumeOptions{.every = 1, .handle_stop_signals = false, .config = cfg.checkpoint_config});

  TrainResult r;
  r.task = cfg.task;
  r.cell = cfg.cell;
  r.T = cfg.T;
  r.num_parameters = model.num_parameters();
  const int64_t budget = round_up(cfg.budget, cfg.batch), every = round_up(cfg.eval_every, cfg.batch);
  double loss_sum = 0, earlier_seconds = 0;
  int64_t loss_steps = 0, seen = 0;
  auto record = [&] {  // evaluates, then checkpoints: the state between evaluations is model, Adam, data
    const Evaluation e = evaluate(cfg.task, model, heldout);
    const double train_loss = loss_steps ? loss_sum / double(loss_steps) : std::numeric_limits<double>::quiet_NaN();
    r.curve.push_back({seen, e.accuracy, e.loss, train_loss});
    summarise(r, cfg.task, r.curve.back());
    loss_sum = 0;
    loss_steps = 0;
    if (run) {
      remember(*run, r.curve.back(), earlier_seconds + seconds_since(start));
      run->after_step(int64_t(r.curve.size()));
    }
    if (cfg.on_eval) cfg.on_eval(seen, train_loss);
  };
  if (run && run->resume() > 0) {
    r.curve = recalled_curve(*run);
    for (const CurvePoint& p : r.curve) summarise(r, cfg.task, p);
    seen = r.curve.back().sequences;
    earlier_seconds = run->history("seconds").back();
  } else {
    record();
  }
  Tape tape;
  while (!r.solved && seen < budget) {
    tape.reset();
    adam.zero_grad();
    const Batch batch = make_batch(cfg.task, data_rng, cfg.batch, cfg.T);
    Var loss = model.loss(cfg.task, model.output(tape, batch), tape, batch);
    const double l = loss.item();
    if (!std::isfinite(l)) {
      r.diverged = true;
      break;
    }
    tape.backward(loss);
    const double norm = cfg.clip > 0 ? optim::clip_grad_norm(params, cfg.clip) : optim::grad_norm(params);
    if (std::isfinite(norm)) adam.step();  // no update from an inf/NaN gradient
    loss_sum += l;
    ++loss_steps;
    seen += cfg.batch;
    if (seen % every == 0 || seen >= budget) record();
  }
  r.parameters = nn::module_tensors(model);
  r.seconds = earlier_seconds + seconds_since(start);
  return r;
}

Evaluation evaluate_saved(const TrainConfig& cfg, const nn::Checkpoint& ckpt, const std::string& prefix) {
  validate(cfg);
  Rng model_rng(cfg.seed);
  Model model(cfg.task, new_cell(cfg, model_rng), model_rng);
  nn::get_module(ckpt, model, prefix);
  return evaluate(cfg.task, model, heldout_set(cfg.task, cfg.T, cfg.heldout, cfg.eval_batch, cfg.seed));
}

}  // namespace seqgrad::long_range
