// Experiment 2 computations: see architecture_comparison.h. One model shape for every task
// (optional Embedding -> nn::Recurrent -> Linear head), one training loop shape per task (Adam,
// clip-by-norm, model selection on the validation metric by a snapshot of the parameters).
#include "experiments/architecture_comparison/architecture_comparison.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>

#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/cells.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "nn/safetensors.h"  // module_tensors
#include "optim/optim.h"

namespace seqgrad::architecture_comparison {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kShuffleStream = 0x9E3779B97F4A7C15ull, kDropoutStream = 0x3C6EF372FE94F82Aull;
constexpr int64_t kIgnore = -100;    // cross_entropy's ignore_index for padded tag targets
constexpr int64_t kEvalBatch = 128;  // evaluation batch (forward only)

void check_config(const Config& cfg, const char* where) {
  if (cfg.embed < 1 || cfg.hidden < 1 || cfg.batch < 1 || cfg.epochs < 1 || !(cfg.lr > 0) || !(cfg.clip >= 0))
    throw std::invalid_argument(std::string(where) + ": needs embed, hidden, batch, epochs >= 1, lr > 0 and clip >= 0, got embed " +
                                std::to_string(cfg.embed) + ", hidden " + std::to_string(cfg.hidden) + ", batch " +
                                std::to_string(cfg.batch) + ", epochs " + std::to_string(cfg.epochs));
}

// [Embedding (vocab, E)] -> Recurrent (E or 1 -> H per direction) -> Linear (D·H -> out).
class Model : public nn::Module {
 public:
  Model(CellKind kind, int64_t vocab, const Config& cfg, int64_t input, int64_t out, Rng& rng) {
    if (vocab > 0) embedding = std::make_unique<nn::Embedding>(vocab, cfg.embed, rng);
    rnn = std::make_unique<nn::Recurrent>(experiments::cell_factory(kind, cfg.forget_bias), vocab > 0 ? cfg.embed : input,
                                          cfg.hidden, rng, nn::RecurrentOptions{.bidirectional = kind == CellKind::bilstm});
    head = std::make_unique<nn::Linear>(cfg.hidden * rnn->num_directions(), out, rng);
    if (embedding) register_module("embedding", *embedding);
    register_module("rnn", *rnn);
    register_module("head", *head);
  }
  // ids (B, T) row-major -> (B, T, E)
  Var embed(Tape& tape, std::span<const int64_t> ids, int64_t B, int64_t T) { return (*embedding)(tape, ids, Shape{B, T}); }
  // The final h of every direction, concatenated: (B, D·H).
  Var final_h(const nn::RecurrentResult& r) {
    if (r.final.size() == 1) return r.final[0].h;
    std::vector<Var> hs;
    for (const nn::State& s : r.final) hs.push_back(s.h);
    return concat(hs, 1);
  }

  std::unique_ptr<nn::Embedding> embedding;
  std::unique_ptr<nn::Recurrent> rnn;
  std::unique_ptr<nn::Linear> head;
};

// The parameter values at the best epoch (model selection), restored before testing.
struct Snapshot {
  std::vector<Tensor> values;
  void take(nn::Module& m) {
    values.clear();
    for (nn::Parameter* p : m.parameters()) values.push_back(p->value.clone());
  }
  void restore(nn::Module& m) const {
    auto params = m.parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i]->value.copy_from(values[i]);
  }
};

// Evenly spaced indices: n items if n <= cap (or cap == 0), else floor(i·n/cap) for i < cap.
std::vector<int64_t> capped(int64_t n, int64_t cap) {
  std::vector<int64_t> idx;
  const int64_t k = (cap > 0 && cap < n) ? cap : n;
  for (int64_t i = 0; i < k; ++i) idx.push_back(k == n ? i : i * n / k);
  return idx;
}

int64_t argmax_row(const std::vector<double>& v, int64_t row, int64_t width) {
  const double* r = v.data() + row * width;
  return int64_t(std::max_element(r, r + width) - r);
}

// One training step: backward, clip, Adam. Returns the loss.
double step(Tape& tape, const Var& loss, nn::Module& model, optim::Adam& adam, const Config& cfg) {
  tape.backward(loss);
  if (cfg.clip > 0) optim::clip_grad_norm(model.named_parameters(), cfg.clip);
  adam.step();
  return loss.item();
}

// Tracks the best validation metric and snapshots the model there.
struct Selector {
  explicit Selector(bool higher_is_better) : higher(higher_is_better) {}
  bool higher;
  double best = std::numeric_limits<double>::quiet_NaN();
  int64_t best_epoch = -1;
  Snapshot snapshot;
  void offer(double metric, int64_t epoch, nn::Module& m) {
    const bool better = best_epoch < 0 || (higher ? metric > best : metric < best);
    if (better && std::isfinite(metric)) {
      best = metric;
      best_epoch = epoch;
      snapshot.take(m);
    }
  }
  void restore(nn::Module& m) const {
    if (best_epoch >= 0) snapshot.restore(m);
  }
};

Result start(CellKind cell, const Config& cfg, Model& model, std::string val_name, bool higher) {
  Result r;
  r.cell = cell;
  r.seed = cfg.seed;
  r.num_parameters = model.num_parameters();
  r.recurrent_parameters = model.rnn->num_parameters();
  r.val_name = std::move(val_name);
  r.higher_is_better = higher;
  return r;
}

// Wall-clock and CPU time of a training pass.
struct Timer {
  Clock::time_point wall = Clock::now();
  std::clock_t cpu = std::clock();
  void stop(Epoch& e) const {
    e.seconds = std::chrono::duration<double>(Clock::now() - wall).count();
    e.cpu_seconds = double(std::clock() - cpu) / CLOCKS_PER_SEC;
  }
};

// ---- sentiment -----------------------------------------------------------------------------------

// Logits (B, C) of sequences x[idx]; padded batch with lengths, final h of every direction.
Var classify(Tape& tape, Model& model, const ClassificationSplit& s, std::span<const int64_t> idx, Rng& rng) {
  const data::PaddedBatch b = data::pad_batch(s.x, idx);
  nn::RecurrentResult r = (*model.rnn)(model.embed(tape, b.ids, b.batch, b.steps), rng, {}, b.lengths);
  return (*model.head)(model.final_h(r));
}

double accuracy(Model& model, const ClassificationSplit& s, int64_t classes, Rng& rng) {
  NoGradGuard no_grad;
  model.eval();
  int64_t correct = 0;
  for (const auto& idx : data::make_batches(int64_t(s.x.size()), kEvalBatch)) {
    Tape tape;
    const std::vector<double> logits = classify(tape, model, s, idx, rng).value().to_vector();
    for (size_t i = 0; i < idx.size(); ++i) correct += argmax_row(logits, int64_t(i), classes) == s.y[size_t(idx[i])];
  }
  model.train();
  return s.x.empty() ? 0.0 : double(correct) / double(s.x.size());
}

// ---- tagging -------------------------------------------------------------------------------------

// Logits (B·T, tags) and the padded targets (B·T, kIgnore past each length).
Var tag_logits(Tape& tape, Model& model, const TaggingSplit& s, std::span<const int64_t> idx, Rng& rng,
               std::vector<int64_t>& targets) {
  const data::PaddedBatch b = data::pad_batch(s.x, idx);
  targets = data::pad_batch(s.y, idx, kIgnore).ids;
  nn::RecurrentResult r = (*model.rnn)(model.embed(tape, b.ids, b.batch, b.steps), rng, {}, b.lengths);
  Var logits = (*model.head)(r.output);  // (B, T, tags)
  return reshape(logits, {b.batch * b.steps, logits.value().size(2)});
}

// Token accuracy and macro-F1 over every real token of the split.
std::pair<double, double> tag_scores(Model& model, const TaggingSplit& s, int64_t tags, Rng& rng) {
  NoGradGuard no_grad;
  model.eval();
  std::vector<int64_t> gold, pred, targets;
  for (const auto& idx : data::make_batches(int64_t(s.x.size()), kEvalBatch)) {
    Tape tape;
    const std::vector<double> logits = tag_logits(tape, model, s, idx, rng, targets).value().to_vector();
    for (size_t i = 0; i < targets.size(); ++i)
      if (targets[i] != kIgnore) {
        gold.push_back(targets[i]);
        pred.push_back(argmax_row(logits, int64_t(i), tags));
      }
  }
  model.train();
  if (gold.empty()) return {0.0, 0.0};
  int64_t correct = 0;
  for (size_t i = 0; i < gold.size(); ++i) correct += gold[i] == pred[i];
  return {double(correct) / double(gold.size()), macro_f1(gold, pred, tags)};
}

// ---- char LM -------------------------------------------------------------------------------------

// One pass over the stream in windows of cfg.bptt, the state carried as constants between windows.
// With `adam`, trains (one step per window); returns the mean cross-entropy per character.
double lm_pass(Model& model, const data::StreamBatches& sb, const Config& cfg, optim::Adam* adam, Rng& rng) {
  std::vector<nn::StateValues> carried;
  std::vector<int64_t> x, y;
  double total = 0;
  int64_t count = 0;
  Tape tape;
  for (int64_t w = 0; w < sb.windows(cfg.bptt); ++w) {
    tape.reset();
    sb.window(w, cfg.bptt, x, y);
    const int64_t T = int64_t(x.size()) / sb.batch;
    std::vector<nn::State> initial;
    for (const auto& v : carried) initial.push_back(nn::constants_of(tape, v));
    if (adam) adam->zero_grad();
    nn::RecurrentResult r = (*model.rnn)(model.embed(tape, x, sb.batch, T), rng, initial);
    Var logits = (*model.head)(r.output);
    Var loss = cross_entropy(reshape(logits, {sb.batch * T, logits.value().size(2)}), y);
    const double l = adam ? step(tape, loss, model, *adam, cfg) : loss.item();
    total += l * double(x.size());
    count += int64_t(x.size());
    carried.clear();
    for (const nn::State& s : r.final) carried.push_back(nn::values_of(s));
  }
  return count ? total / double(count) : std::numeric_limits<double>::quiet_NaN();
}

// ---- forecast ------------------------------------------------------------------------------------

// Inputs (B, window, 1) and targets (B, 1), normalised, for target positions pos[idx].
void forecast_batch(const ForecastTask& t, const std::vector<int64_t>& pos, std::span<const int64_t> idx, Tensor& x,
                    Tensor& y) {
  const int64_t B = int64_t(idx.size()), W = t.window;
  std::vector<double> xs(static_cast<size_t>(B * W)), ys(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t p = pos[size_t(idx[size_t(b)])];
    for (int64_t k = 0; k < W; ++k) xs[size_t(b * W + k)] = (t.values[size_t(p - W + k)] - t.mean) / t.std;
    ys[size_t(b)] = (t.values[size_t(p)] - t.mean) / t.std;
  }
  x = Tensor::from({B, W, 1}, xs);
  y = Tensor::from({B, 1}, ys);
}

// RMSE in original units of the model's predictions at positions pos.
double forecast_rmse(Model& model, const ForecastTask& t, const std::vector<int64_t>& pos, Rng& rng) {
  NoGradGuard no_grad;
  model.eval();
  double se = 0;
  Tensor x, y;
  for (const auto& idx : data::make_batches(int64_t(pos.size()), kEvalBatch)) {
    Tape tape;
    forecast_batch(t, pos, idx, x, y);
    const std::vector<double> pred = (*model.head)(model.final_h((*model.rnn)(tape.constant(x), rng))).value().to_vector();
    for (size_t i = 0; i < idx.size(); ++i) {
      const double d = pred[i] * t.std + t.mean - t.values[size_t(pos[size_t(idx[i])])];
      se += d * d;
    }
  }
  model.train();
  return pos.empty() ? std::numeric_limits<double>::quiet_NaN() : std::sqrt(se / double(pos.size()));
}

std::vector<int64_t> positions(int64_t begin, int64_t end) {
  std::vector<int64_t> p;
  for (int64_t i = begin; i < end; ++i) p.push_back(i);
  return p;
}

}  // namespace

// ---- names, results, statistics ---------------------------------------------------------------------

double Result::metric(const std::string& name) const {
  for (const auto& [k, v] : metrics)
    if (k == name) return v;
  throw std::invalid_argument("architecture_comparison: result has no metric '" + name + "'");
}

double Result::seconds_per_epoch() const {
  double s = 0;
  for (const Epoch& e : epochs) s += e.seconds;
  return epochs.empty() ? 0.0 : s / double(epochs.size());
}

double Result::cpu_seconds_per_epoch() const {
  double s = 0;
  for (const Epoch& e : epochs) s += e.cpu_seconds;
  return epochs.empty() ? 0.0 : s / double(epochs.size());
}

double macro_f1(std::span<const int64_t> gold, std::span<const int64_t> predicted, int64_t classes) {
  if (gold.size() != predicted.size() || gold.empty())
    throw std::invalid_argument("macro_f1: needs equally long, non-empty gold and predicted, got " +
                                std::to_string(gold.size()) + " and " + std::to_string(predicted.size()));
  const size_t n = static_cast<size_t>(classes);
  std::vector<int64_t> tp(n), fp(n), fn(n);
  for (size_t i = 0; i < gold.size(); ++i) {
    const int64_t g = gold[i], p = predicted[i];
    if (g < 0 || g >= classes || p < 0 || p >= classes)
      throw std::invalid_argument("macro_f1: class " + std::to_string(g < 0 || g >= classes ? g : p) + " outside 0.." +
                                  std::to_string(classes - 1));
    if (g == p) {
      ++tp[size_t(g)];
    } else {
      ++fp[size_t(p)];
      ++fn[size_t(g)];
    }
  }
  double sum = 0;
  int64_t present = 0;
  for (int64_t c = 0; c < classes; ++c) {
    const int64_t denom = 2 * tp[size_t(c)] + fp[size_t(c)] + fn[size_t(c)];
    if (denom == 0) continue;  // neither in gold nor predicted
    sum += 2.0 * double(tp[size_t(c)]) / double(denom);
    ++present;
  }
  return sum / double(present);
}

// ---- sentiment -------------------------------------------------------------------------------------

ClassificationTask encode_classification(const data::ClassificationData& in, const Config& cfg) {
  auto tokens_of = [](const std::vector<data::TextExample>& v, const std::vector<int64_t>& idx) {
    std::vector<std::vector<std::string>> out;
    for (int64_t i : idx) out.push_back(data::tokenize(v[size_t(i)].text));
    return out;
  };
  const auto train_idx = capped(int64_t(in.train.size()), cfg.max_train);
  const auto train_tokens = tokens_of(in.train, train_idx);
  const data::Vocabulary vocab = data::Vocabulary::build(train_tokens, {.min_count = cfg.min_count});
  ClassificationTask task;
  task.vocab_size = vocab.size();
  task.classes = int64_t(in.classes.size());
  auto encode = [&](const std::vector<data::TextExample>& v, const std::vector<int64_t>& idx, ClassificationSplit& s) {
    const auto toks = tokens_of(v, idx);
    for (size_t k = 0; k < idx.size(); ++k) {
      std::vector<int64_t> ids = vocab.encode(toks[k]);
      if (ids.empty()) ids.push_back(data::Vocabulary::kUnk);
      s.x.push_back(std::move(ids));
      s.y.push_back(v[size_t(idx[k])].label);
    }
  };
  encode(in.train, train_idx, task.train);
  encode(in.val, capped(int64_t(in.val.size()), cfg.max_eval), task.val);
  encode(in.test, capped(int64_t(in.test.size()), cfg.max_eval), task.test);
  return task;
}

Result train_sentiment(const ClassificationTask& task, CellKind cell, const Config& cfg) {
  check_config(cfg, "train_sentiment");
  if (task.train.x.empty() || task.classes < 2)
    throw std::invalid_argument("train_sentiment: needs training sentences and >= 2 classes");
  Rng model_rng(cfg.seed), shuffle_rng(cfg.seed + kShuffleStream), rng(cfg.seed + kDropoutStream);
  Model model(cell, task.vocab_size, cfg, 0, task.classes, model_rng);
  Result r = start(cell, cfg, model, "val_accuracy", true);
  optim::Adam adam(model.named_parameters(), {.lr = cfg.lr});
  Selector sel(true);
  Tape tape;
  for (int64_t epoch = 0; epoch < cfg.epochs; ++epoch) {
    const Timer timer;
    double total = 0;
    for (const auto& idx : data::make_batches(int64_t(task.train.x.size()), cfg.batch, &shuffle_rng)) {
      tape.reset();
      adam.zero_grad();
      std::vector<int64_t> y;
      for (int64_t i : idx) y.push_back(task.train.y[size_t(i)]);
      total += step(tape, cross_entropy(classify(tape, model, task.train, idx, rng), y), model, adam, cfg) * double(idx.size());
    }
    Epoch e{.train_loss = total / double(task.train.x.size())};
    timer.stop(e);
    e.val_metric = accuracy(model, task.val, task.classes, rng);
    r.epochs.push_back(e);
    sel.offer(e.val_metric, epoch, model);
    if (cfg.on_epoch) cfg.on_epoch(epoch + 1, e.train_loss, e.val_metric);
  }
  sel.restore(model);
  r.best_epoch = std::max<int64_t>(sel.best_epoch, 0);
  r.parameters = nn::module_tensors(model);
  r.metrics = {{"test_accuracy", accuracy(model, task.test, task.classes, rng)}};
  return r;
}

// ---- tagging ---------------------------------------------------------------------------------------

TaggingTask encode_tagging(const data::TaggingData& in, const Config& cfg) {
  auto lower = [](std::string w) {
    for (char& ch : w)
      if (ch >= 'A' && ch <= 'Z') ch = char(ch - 'A' + 'a');
    return w;
  };
  const auto train_idx = capped(int64_t(in.train.size()), cfg.max_train);
  std::vector<std::vector<std::string>> train_words;
  for (int64_t i : train_idx) {
    std::vector<std::string> ws;
    for (const auto& w : in.train[size_t(i)].words) ws.push_back(lower(w));
    train_words.push_back(std::move(ws));
  }
  const data::Vocabulary vocab = data::Vocabulary::build(train_words, {.min_count = cfg.min_count});
  const data::Vocabulary tags = data::Vocabulary::from_tokens(in.tagset, false);
  TaggingTask task;
  task.vocab_size = vocab.size();
  task.tagset = in.tagset;
  auto encode = [&](const std::vector<data::TaggedSentence>& v, const std::vector<int64_t>& idx, TaggingSplit& s) {
    for (int64_t i : idx) {
      const data::TaggedSentence& sent = v[size_t(i)];
      if (sent.words.empty()) continue;
      std::vector<std::string> ws;
      for (const auto& w : sent.words) ws.push_back(lower(w));
      s.x.push_back(vocab.encode(ws));
      s.y.push_back(tags.encode(sent.tags));
    }
  };
  encode(in.train, train_idx, task.train);
  encode(in.val, capped(int64_t(in.val.size()), cfg.max_eval), task.val);
  encode(in.test, capped(int64_t(in.test.size()), cfg.max_eval), task.test);
  return task;
}

Result train_tagging(const TaggingTask& task, CellKind cell, const Config& cfg) {
  check_config(cfg, "train_tagging");
  if (task.train.x.empty() || task.tagset.empty())
    throw std::invalid_argument("train_tagging: needs training sentences and a tag set");
  const int64_t tags = int64_t(task.tagset.size());
  Rng model_rng(cfg.seed), shuffle_rng(cfg.seed + kShuffleStream), rng(cfg.seed + kDropoutStream);
  Model model(cell, task.vocab_size, cfg, 0, tags, model_rng);
  Result r = start(cell, cfg, model, "val_token_accuracy", true);
  optim::Adam adam(model.named_parameters(), {.lr = cfg.lr});
  Selector sel(true);
  Tape tape;
  std::vector<int64_t> targets;
  for (int64_t epoch = 0; epoch < cfg.epochs; ++epoch) {
    const Timer timer;
    double total = 0;
    int64_t tokens = 0;
    for (const auto& idx : data::make_batches(int64_t(task.train.x.size()), cfg.batch, &shuffle_rng)) {
      tape.reset();
      adam.zero_grad();
      Var logits = tag_logits(tape, model, task.train, idx, rng, targets);
      const int64_t n = int64_t(std::count_if(targets.begin(), targets.end(), [](int64_t t) { return t != kIgnore; }));
      total += step(tape, cross_entropy(logits, targets, kIgnore), model, adam, cfg) * double(n);
      tokens += n;
    }
    Epoch e{.train_loss = total / double(tokens)};
    timer.stop(e);
    e.val_metric = tag_scores(model, task.val, tags, rng).first;
    r.epochs.push_back(e);
    sel.offer(e.val_metric, epoch, model);
    if (cfg.on_epoch) cfg.on_epoch(epoch + 1, e.train_loss, e.val_metric);
  }
  sel.restore(model);
  r.best_epoch = std::max<int64_t>(sel.best_epoch, 0);
  r.parameters = nn::module_tensors(model);
  const auto [acc, f1] = tag_scores(model, task.test, tags, rng);
  r.metrics = {{"test_token_accuracy", acc}, {"test_macro_f1", f1}};
  return r;
}

// ---- char LM ---------------------------------------------------------------------------------------

Result train_char_lm(const data::CharCorpus& corpus, CellKind cell, const Config& cfg) {
  check_config(cfg, "train_char_lm");
  if (cell == CellKind::bilstm) throw std::invalid_argument("train_char_lm: a BiLSTM would see the future; not a language model");
  if (cfg.bptt < 1) throw std::invalid_argument("train_char_lm: bptt must be >= 1");
  auto head_of = [](const std::vector<int64_t>& v, int64_t cap) {
    return std::vector<int64_t>(v.begin(), v.begin() + ((cap > 0 && cap < int64_t(v.size())) ? cap : int64_t(v.size())));
  };
  const std::vector<int64_t> train = head_of(corpus.train, cfg.lm_train_chars), val = head_of(corpus.val, cfg.lm_val_chars);
  if (int64_t(train.size()) < 2 * cfg.batch || int64_t(val.size()) < 2 * cfg.batch)
    throw std::invalid_argument("train_char_lm: needs at least 2 characters per batch row in train and validation (batch " +
                                std::to_string(cfg.batch) + ", got " + std::to_string(train.size()) + " and " +
                                std::to_string(val.size()) + " characters)");
  const data::StreamBatches train_sb = data::stream_batches(train, cfg.batch), val_sb = data::stream_batches(val, cfg.batch);
  const int64_t V = corpus.vocab.size();
  Rng model_rng(cfg.seed), rng(cfg.seed + kDropoutStream);
  Model model(cell, V, cfg, 0, V, model_rng);
  Result r = start(cell, cfg, model, "val_bpc", false);
  optim::Adam adam(model.named_parameters(), {.lr = cfg.lr});
  Selector sel(false);
  for (int64_t epoch = 0; epoch < cfg.epochs; ++epoch) {
    const Timer timer;
    Epoch e{.train_loss = lm_pass(model, train_sb, cfg, &adam, rng)};
    timer.stop(e);
    {
      NoGradGuard no_grad;
      model.eval();
      e.val_metric = lm_pass(model, val_sb, cfg, nullptr, rng) / std::log(2.0);
      model.train();
    }
    r.epochs.push_back(e);
    sel.offer(e.val_metric, epoch, model);
    if (cfg.on_epoch) cfg.on_epoch(epoch + 1, e.train_loss, e.val_metric);
  }
  sel.restore(model);
  r.best_epoch = std::max<int64_t>(sel.best_epoch, 0);
  r.parameters = nn::module_tensors(model);
  r.metrics = {{"val_bpc", r.epochs[size_t(r.best_epoch)].val_metric}};
  return r;
}

// ---- forecast --------------------------------------------------------------------------------------

ForecastTask encode_forecast(const data::ForecastData& in, int64_t window) {
  if (window < 1) throw std::invalid_argument("encode_forecast: window must be >= 1, got " + std::to_string(window));
  ForecastTask t;
  t.window = window;
  t.values = in.train.values;
  t.val_begin = int64_t(t.values.size());
  t.values.insert(t.values.end(), in.val.values.begin(), in.val.values.end());
  t.test_begin = int64_t(t.values.size());
  t.values.insert(t.values.end(), in.test.values.begin(), in.test.values.end());
  if (t.val_begin <= window || t.test_begin == t.val_begin || int64_t(t.values.size()) == t.test_begin)
    throw std::invalid_argument("encode_forecast: needs more than window = " + std::to_string(window) +
                                " training values and non-empty validation and test parts, got " +
                                std::to_string(t.val_begin) + " / " + std::to_string(t.test_begin - t.val_begin) +
                                " / " + std::to_string(int64_t(t.values.size()) - t.test_begin));
  const MeanStd ms = mean_std(std::span<const double>(t.values.data(), size_t(t.val_begin)));
  t.mean = ms.mean;
  t.std = ms.std > 0 ? ms.std : 1.0;  // a constant training series: do not divide by zero
  return t;
}

double persistence_rmse(const ForecastTask& t) {
  double se = 0;
  for (size_t i = size_t(t.test_begin); i < t.values.size(); ++i) se += (t.values[i] - t.values[i - 1]) * (t.values[i] - t.values[i - 1]);
  return std::sqrt(se / double(t.values.size() - size_t(t.test_begin)));
}

Result train_forecast(const ForecastTask& task, CellKind cell, const Config& cfg) {
  check_config(cfg, "train_forecast");
  if (cell == CellKind::bilstm) throw std::invalid_argument("train_forecast: a BiLSTM is not used for forecasting here");
  const auto train_pos = positions(task.window, task.val_begin), val_pos = positions(task.val_begin, task.test_begin),
             test_pos = positions(task.test_begin, int64_t(task.values.size()));
  Rng model_rng(cfg.seed), shuffle_rng(cfg.seed + kShuffleStream), rng(cfg.seed + kDropoutStream);
  Model model(cell, 0, cfg, 1, 1, model_rng);
  Result r = start(cell, cfg, model, "val_rmse", false);
  optim::Adam adam(model.named_parameters(), {.lr = cfg.lr});
  Selector sel(false);
  Tape tape;
  Tensor x, y;
  for (int64_t epoch = 0; epoch < cfg.epochs; ++epoch) {
    const Timer timer;
    double total = 0;
    for (const auto& idx : data::make_batches(int64_t(train_pos.size()), cfg.batch, &shuffle_rng)) {
      tape.reset();
      adam.zero_grad();
      forecast_batch(task, train_pos, idx, x, y);
      Var pred = (*model.head)(model.final_h((*model.rnn)(tape.constant(x), rng)));
      total += step(tape, mse(pred, tape.constant(y)), model, adam, cfg) * double(idx.size());
    }
    Epoch e{.train_loss = total / double(train_pos.size())};
    timer.stop(e);
    e.val_metric = forecast_rmse(model, task, val_pos, rng);
    r.epochs.push_back(e);
    sel.offer(e.val_metric, epoch, model);
    if (cfg.on_epoch) cfg.on_epoch(epoch + 1, e.train_loss, e.val_metric);
  }
  sel.restore(model);
  r.best_epoch = std::max<int64_t>(sel.best_epoch, 0);
  r.parameters = nn::module_tensors(model);
  r.metrics = {{"test_rmse", forecast_rmse(model, task, test_pos, rng)}, {"persistence_rmse", persistence_rmse(task)}};
  return r;
}

}  // namespace seqgrad::architecture_comparison
