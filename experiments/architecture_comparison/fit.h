// The ONE training loop of Experiment 2 and the model every task trains. A task supplies only an
// Objective — its epoch's batches, the loss of one batch and its validation metric — and fit() does
// the rest: epochs of batches, Adam with clip-by-norm, validation after every epoch, a snapshot of
// the parameters at the best validation epoch (restored at the end: model selection), and the
// wall-clock and CPU time of every epoch's training pass.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "autograd/rng.h"
#include "autograd/tape.h"
#include "experiments/architecture_comparison/architecture_comparison.h"
#include "nn/layers.h"
#include "nn/recurrent.h"

namespace seqgrad::architecture_comparison {

// [Embedding (vocab, E)] -> Recurrent (E, or `input` without a vocabulary -> H per direction) ->
// Linear (D·H -> out). Built from Rng(cfg.seed); `rng` drives the forward passes (dropout streams).
class Model : public nn::Module {
 public:
  Model(CellKind kind, int64_t vocab, int64_t input, int64_t out, const Config& cfg);
  // ids (B, T) row-major -> (B, T, E)
  Var embed(Tape& tape, std::span<const int64_t> ids, int64_t B, int64_t T);
  // The final h of every direction, concatenated: (B, D·H).
  Var final_h(const nn::RecurrentResult& r);

  std::unique_ptr<nn::Embedding> embedding;
  std::unique_ptr<nn::Recurrent> rnn;
  std::unique_ptr<nn::Linear> head;
  Rng rng;
};

// What a task supplies to fit().
struct Objective {
  std::string val_name;          // e.g. "val_accuracy"
  bool higher_is_better = true;  // for val_name
  // The batches of one epoch as index lists (shuffle them with `shuffle`, or keep an order).
  std::function<std::vector<std::vector<int64_t>>(Rng& shuffle)> batches;
  // The loss of one batch, recorded on `tape`, and its weight in the epoch's mean (items, tokens).
  std::function<std::pair<Var, double>(Tape& tape, std::span<const int64_t> batch)> loss;
  // The validation metric; fit() calls it in eval mode without gradient recording.
  std::function<double()> validate;
};

// Trains `model` for cfg.epochs and returns the Result with epochs, best_epoch and the selected
// parameters (the model holds them too); the task adds its test metrics. Throws on a bad cfg.
Result fit(Model& model, CellKind cell, const Config& cfg, const Objective& objective);

// The weighted mean loss over `batches` in eval mode without gradients (validation by loss).
double mean_loss(Model& model, const std::vector<std::vector<int64_t>>& batches,
                 const std::function<std::pair<Var, double>(Tape&, std::span<const int64_t>)>& loss);

// Runs f() with `model` in eval mode and no gradient recording, then back in train mode.
template <typename F>
auto evaluating(nn::Module& model, F&& f) {
  NoGradGuard no_grad;
  model.eval();
  struct Back {
    nn::Module& m;
    ~Back() { m.train(); }
  } back{model};
  return f();
}

// Evenly spaced index batches of size kEvalBatch over 0 .. n-1, in order (evaluation).
std::vector<std::vector<int64_t>> eval_batches(int64_t n);

}  // namespace seqgrad::architecture_comparison
