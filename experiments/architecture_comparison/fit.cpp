// The training loop and model of Experiment 2. See fit.h.
#include "experiments/architecture_comparison/fit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <stdexcept>

#include "autograd/ops.h"
#include "experiments/data/data.h"
#include "nn/io/safetensors.h"  // module_tensors
#include "optim/optim.h"

namespace seqgrad::architecture_comparison {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kShuffleStream = 0x9E3779B97F4A7C15ull, kDropoutStream = 0x3C6EF372FE94F82Aull;

// Throws naming the bad setting unless the sizes and rates can train.
void check_config(const Config& cfg) {
  if (cfg.embed < 1 || cfg.hidden < 1 || cfg.batch < 1 || cfg.epochs < 1 || !(cfg.lr > 0) || !(cfg.clip >= 0))
    throw std::invalid_argument("fit: needs embed, hidden, batch, epochs >= 1, lr > 0 and clip >= 0, got embed " +
                                std::to_string(cfg.embed) + ", hidden " + std::to_string(cfg.hidden) + ", batch " +
                                std::to_string(cfg.batch) + ", epochs " + std::to_string(cfg.epochs));
}

// The parameter values at the best validation epoch (model selection), restored before testing.
class Selector {
 public:
  explicit Selector(bool higher_is_better) : higher_(higher_is_better) {}
  // Snapshots the model when `metric` (finite) is the best so far.
  void offer(double metric, int64_t epoch, nn::Module& m) {
    const bool better = best_epoch_ < 0 || (higher_ ? metric > best_ : metric < best_);
    if (!better || !std::isfinite(metric)) return;
    best_ = metric;
    best_epoch_ = epoch;
    values_.clear();
    for (nn::Parameter* p : m.parameters()) values_.push_back(p->value.clone());
  }
  // Puts the snapshot back; returns its epoch (0 when no epoch had a finite metric).
  int64_t restore(nn::Module& m) const {
    if (best_epoch_ < 0) return 0;
    auto params = m.parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i]->value.copy_from(values_[i]);
    return best_epoch_;
  }

 private:
  bool higher_;
  double best_ = std::numeric_limits<double>::quiet_NaN();
  int64_t best_epoch_ = -1;
  std::vector<Tensor> values_;
};

// Wall-clock and process CPU time of a training pass.
struct Timer {
  Clock::time_point wall = Clock::now();
  std::clock_t cpu = std::clock();
  void stop(Epoch& e) const {
    e.seconds = std::chrono::duration<double>(Clock::now() - wall).count();
    e.cpu_seconds = double(std::clock() - cpu) / CLOCKS_PER_SEC;
  }
};

// One epoch's training pass: per batch forward, backward, clip, Adam. Sets train_loss and times.
Epoch train_epoch(Model& model, optim::Adam& adam, const Objective& obj, Rng& shuffle, const Config& cfg) {
  const Timer timer;
  Tape tape;
  double total = 0, weight = 0;
  for (const std::vector<int64_t>& batch : obj.batches(shuffle)) {
    tape.reset();
    adam.zero_grad();
    auto [loss, w] = obj.loss(tape, batch);
    tape.backward(loss);
    if (cfg.clip > 0) optim::clip_grad_norm(model.named_parameters(), cfg.clip);
    adam.step();
    total += loss.item() * w;
    weight += w;
  }
  Epoch e{.train_loss = weight > 0 ? total / weight : std::numeric_limits<double>::quiet_NaN()};
  timer.stop(e);
  return e;
}

}  // namespace

Model::Model(CellKind kind, int64_t vocab, int64_t input, int64_t out, const Config& cfg)
    : rng(cfg.seed + kDropoutStream) {
  Rng init(cfg.seed);
  if (vocab > 0) embedding = std::make_unique<nn::Embedding>(vocab, cfg.embed, init);
  rnn = std::make_unique<nn::Recurrent>(experiments::cell_factory(kind, cfg.forget_bias), vocab > 0 ? cfg.embed : input,
                                        cfg.hidden, init,
                                        nn::RecurrentOptions{.bidirectional = kind == CellKind::bilstm});
  head = std::make_unique<nn::Linear>(cfg.hidden * rnn->num_directions(), out, init);
  if (embedding) register_module("embedding", *embedding);
  register_module("rnn", *rnn);
  register_module("head", *head);
}

Var Model::embed(Tape& tape, std::span<const int64_t> ids, int64_t B, int64_t T) {
  return (*embedding)(tape, ids, Shape{B, T});
}

Var Model::final_h(const nn::RecurrentResult& r) {
  if (r.final.size() == 1) return r.final[0].h;
  std::vector<Var> hs;
  for (const nn::State& s : r.final) hs.push_back(s.h);
  return concat(hs, 1);
}

Result fit(Model& model, CellKind cell, const Config& cfg, const Objective& objective) {
  check_config(cfg);
  Result r;
  r.cell = cell;
  r.seed = cfg.seed;
  r.num_parameters = model.num_parameters();
  r.recurrent_parameters = model.rnn->num_parameters();
  r.val_name = objective.val_name;
  r.higher_is_better = objective.higher_is_better;
  Rng shuffle(cfg.seed + kShuffleStream);
  optim::Adam adam(model.named_parameters(), {.lr = cfg.lr});
  Selector selector(objective.higher_is_better);
  for (int64_t epoch = 0; epoch < cfg.epochs; ++epoch) {
    Epoch e = train_epoch(model, adam, objective, shuffle, cfg);
    e.val_metric = evaluating(model, objective.validate);
    r.epochs.push_back(e);
    selector.offer(e.val_metric, epoch, model);
    if (cfg.on_epoch) cfg.on_epoch(epoch + 1, e.train_loss, e.val_metric);
  }
  r.best_epoch = selector.restore(model);
  r.parameters = nn::module_tensors(model);
  return r;
}

double mean_loss(Model& model, const std::vector<std::vector<int64_t>>& batches,
                 const std::function<std::pair<Var, double>(Tape&, std::span<const int64_t>)>& loss) {
  return evaluating(model, [&] {
    double total = 0, weight = 0;
    for (const std::vector<int64_t>& batch : batches) {
      Tape tape;
      auto [l, w] = loss(tape, batch);
      total += l.item() * w;
      weight += w;
    }
    return weight > 0 ? total / weight : std::numeric_limits<double>::quiet_NaN();
  });
}

std::vector<std::vector<int64_t>> eval_batches(int64_t n) { return data::make_batches(n, kEvalBatch); }

}  // namespace seqgrad::architecture_comparison
