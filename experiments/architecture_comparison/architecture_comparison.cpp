// Experiment 2's tasks: see architecture_comparison.h. Each task is its encoding, its Objective for
// the one training loop (fit.h: batches, the loss of a batch, the validation metric) and its test
// metrics; training and --eval-only share the latter.
#include "experiments/architecture_comparison/architecture_comparison.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "autograd/ops.h"
#include "experiments/architecture_comparison/fit.h"
#include "experiments/common/io.h"
#include "nn/io/safetensors.h"  // load_module_tensors

namespace seqgrad::architecture_comparison {

namespace {

constexpr int64_t kIgnore = -100;  // cross_entropy's ignore_index for padded tag targets

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

// A model holding saved parameters (--eval-only); throws naming a missing or misshapen parameter.
std::unique_ptr<Model> saved_model(CellKind cell, int64_t vocab, int64_t input, int64_t out, const Config& cfg,
                                   const NamedTensors& params) {
  auto model = std::make_unique<Model>(cell, vocab, input, out, cfg);
  nn::load_module_tensors(*model, params);
  return model;
}

// Shuffled training batches of cfg.batch over n items.
auto shuffled_batches(int64_t n, int64_t batch) {
  return [n, batch](Rng& shuffle) { return data::make_batches(n, batch, &shuffle); };
}

// ---- sentiment -----------------------------------------------------------------------------------

// Logits (B, C) of sequences x[idx]; padded batch with lengths, final h of every direction.
Var classify(Tape& tape, Model& model, const ClassificationSplit& s, std::span<const int64_t> idx) {
  const data::PaddedBatch b = data::pad_batch(s.x, idx);
  nn::RecurrentResult r = (*model.rnn)(model.embed(tape, b.ids, b.batch, b.steps), model.rng, {}, b.lengths);
  return (*model.head)(model.final_h(r));
}

double accuracy(Model& model, const ClassificationSplit& s, int64_t classes) {
  return evaluating(model, [&] {
    int64_t correct = 0;
    for (const auto& idx : eval_batches(int64_t(s.x.size()))) {
      Tape tape;
      const std::vector<double> logits = classify(tape, model, s, idx).value().to_vector();
      for (size_t i = 0; i < idx.size(); ++i) correct += argmax_row(logits, int64_t(i), classes) == s.y[size_t(idx[i])];
    }
    return s.x.empty() ? 0.0 : double(correct) / double(s.x.size());
  });
}

Objective sentiment_objective(Model& model, const ClassificationTask& task, const Config& cfg) {
  return {.val_name = "val_accuracy",
          .higher_is_better = true,
          .batches = shuffled_batches(int64_t(task.train.x.size()), cfg.batch),
          .loss =
              [&](Tape& tape, std::span<const int64_t> idx) {
                std::vector<int64_t> y;
                for (int64_t i : idx) y.push_back(task.train.y[size_t(i)]);
                return std::pair{cross_entropy(classify(tape, model, task.train, idx), y), double(idx.size())};
              },
          .validate = [&] { return accuracy(model, task.val, task.classes); }};
}

void check_sentiment(const ClassificationTask& task) {
  if (task.train.x.empty() || task.classes < 2)
    throw std::invalid_argument("train_sentiment: needs training sentences and >= 2 classes");
}

// ---- tagging -------------------------------------------------------------------------------------

// Logits (B·T, tags) and the padded targets (B·T, kIgnore past each length).
Var tag_logits(Tape& tape, Model& model, const TaggingSplit& s, std::span<const int64_t> idx,
               std::vector<int64_t>& targets) {
  const data::PaddedBatch b = data::pad_batch(s.x, idx);
  targets = data::pad_batch(s.y, idx, kIgnore).ids;
  nn::RecurrentResult r = (*model.rnn)(model.embed(tape, b.ids, b.batch, b.steps), model.rng, {}, b.lengths);
  Var logits = (*model.head)(r.output);  // (B, T, tags)
  return reshape(logits, {b.batch * b.steps, logits.value().size(2)});
}

// Token accuracy and macro-F1 over every real token of the split.
std::pair<double, double> tag_scores(Model& model, const TaggingSplit& s, int64_t tags) {
  std::vector<int64_t> gold, pred, targets;
  evaluating(model, [&] {
    for (const auto& idx : eval_batches(int64_t(s.x.size()))) {
      Tape tape;
      const std::vector<double> logits = tag_logits(tape, model, s, idx, targets).value().to_vector();
      for (size_t i = 0; i < targets.size(); ++i)
        if (targets[i] != kIgnore) gold.push_back(targets[i]), pred.push_back(argmax_row(logits, int64_t(i), tags));
    }
    return 0;
  });
  if (gold.empty()) return {0.0, 0.0};
  int64_t correct = 0;
  for (size_t i = 0; i < gold.size(); ++i) correct += gold[i] == pred[i];
  return {double(correct) / double(gold.size()), macro_f1(gold, pred, tags)};
}

Objective tagging_objective(Model& model, const TaggingTask& task, const Config& cfg) {
  const int64_t tags = int64_t(task.tagset.size());
  return {.val_name = "val_token_accuracy",
          .higher_is_better = true,
          .batches = shuffled_batches(int64_t(task.train.x.size()), cfg.batch),
          .loss =
              [&model, &task, targets = std::vector<int64_t>()](Tape& tape, std::span<const int64_t> idx) mutable {
                Var logits = tag_logits(tape, model, task.train, idx, targets);
                const auto n = std::count_if(targets.begin(), targets.end(), [](int64_t t) { return t != kIgnore; });
                return std::pair{cross_entropy(logits, targets, kIgnore), double(n)};
              },
          .validate = [&model, &task, tags] { return tag_scores(model, task.val, tags).first; }};
}

Metrics tagging_metrics(Model& model, const TaggingTask& task) {
  const auto [acc, f1] = tag_scores(model, task.test, int64_t(task.tagset.size()));
  return {{"test_token_accuracy", acc}, {"test_macro_f1", f1}};
}

void check_tagging(const TaggingTask& task) {
  if (task.train.x.empty() || task.tagset.empty())
    throw std::invalid_argument("train_tagging: needs training sentences and a tag set");
}

// ---- char LM -------------------------------------------------------------------------------------

// A character stream read in windows of cfg.bptt, the state carried as constants from one window
// to the next and reset to zeros at window 0 (each epoch). A "batch" is one window index {w}.
struct LmStream {
  LmStream(Model& m, const std::vector<int64_t>& ids, const Config& cfg)
      : model(m), sb(data::stream_batches(ids, cfg.batch)), bptt(cfg.bptt) {}
  std::vector<std::vector<int64_t>> windows() const {
    std::vector<std::vector<int64_t>> w;
    for (int64_t i = 0; i < sb.windows(bptt); ++i) w.push_back({i});
    return w;
  }
  // Mean cross-entropy per character of window w, weighted by its characters.
  std::pair<Var, double> loss(Tape& tape, std::span<const int64_t> w) {
    if (w[0] == 0) carried.clear();
    sb.window(w[0], bptt, x, y);
    const int64_t T = int64_t(x.size()) / sb.batch;
    std::vector<nn::State> initial;
    for (const auto& v : carried) initial.push_back(nn::constants_of(tape, v));
    nn::RecurrentResult r = (*model.rnn)(model.embed(tape, x, sb.batch, T), model.rng, initial);
    Var logits = (*model.head)(r.output);
    carried.clear();
    for (const nn::State& s : r.final) carried.push_back(nn::values_of(s));
    return {cross_entropy(reshape(logits, {sb.batch * T, logits.value().size(2)}), y), double(x.size())};
  }
  // Validation bits per character over the whole stream.
  double bpc() {
    return mean_loss(model, windows(), [this](Tape& t, std::span<const int64_t> w) { return loss(t, w); }) /
           std::log(2.0);
  }

  Model& model;
  data::StreamBatches sb;
  int64_t bptt;
  std::vector<nn::StateValues> carried;
  std::vector<int64_t> x, y;
};

// The capped streams, checked to give every batch row at least 2 characters.
std::pair<std::vector<int64_t>, std::vector<int64_t>> lm_streams(const data::CharCorpus& corpus, CellKind cell,
                                                                 const Config& cfg) {
  if (cell == CellKind::bilstm)
    throw std::invalid_argument("train_char_lm: a BiLSTM would see the future; not a language model");
  if (cfg.bptt < 1) throw std::invalid_argument("train_char_lm: bptt must be >= 1");
  auto train = lm_train_stream(corpus, cfg), val = lm_val_stream(corpus, cfg);
  if (int64_t(train.size()) < 2 * cfg.batch || int64_t(val.size()) < 2 * cfg.batch)
    throw std::invalid_argument(
        "train_char_lm: needs at least 2 characters per batch row in train and validation (batch " +
        std::to_string(cfg.batch) + ", got " + std::to_string(train.size()) + " and " + std::to_string(val.size()) +
        " characters)");
  return {std::move(train), std::move(val)};
}

std::vector<int64_t> head_of(const std::vector<int64_t>& v, int64_t cap) {
  return std::vector<int64_t>(v.begin(), v.begin() + ((cap > 0 && cap < int64_t(v.size())) ? cap : int64_t(v.size())));
}

// ---- forecast ------------------------------------------------------------------------------------

// Inputs (B, window, 1) and targets (B, 1) for target positions pos[idx], each relative to the
// window's last value and divided by t.scale (see ForecastTask).
void forecast_batch(const ForecastTask& t, const std::vector<int64_t>& pos, std::span<const int64_t> idx, Tensor& x,
                    Tensor& y) {
  const int64_t B = int64_t(idx.size()), W = t.window;
  std::vector<double> xs(static_cast<size_t>(B * W)), ys(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t p = pos[size_t(idx[size_t(b)])];
    const double last = t.values[size_t(p - 1)];
    for (int64_t k = 0; k < W; ++k) xs[size_t(b * W + k)] = (t.values[size_t(p - W + k)] - last) / t.scale;
    ys[size_t(b)] = (t.values[size_t(p)] - last) / t.scale;
  }
  x = Tensor::from({B, W, 1}, xs);
  y = Tensor::from({B, 1}, ys);
}

Var forecast(Tape& tape, Model& model, const Tensor& x) {
  return (*model.head)(model.final_h((*model.rnn)(tape.constant(x), model.rng)));
}

// RMSE in original units of the model's predictions at positions pos.
double forecast_rmse(Model& model, const ForecastTask& t, const std::vector<int64_t>& pos) {
  double se = 0;
  evaluating(model, [&] {
    Tensor x, y;
    for (const auto& idx : eval_batches(int64_t(pos.size()))) {
      Tape tape;
      forecast_batch(t, pos, idx, x, y);
      const std::vector<double> pred = forecast(tape, model, x).value().to_vector();
      for (size_t i = 0; i < idx.size(); ++i) {
        const size_t p = size_t(pos[size_t(idx[i])]);
        const double d = t.values[p - 1] + pred[i] * t.scale - t.values[p];
        se += d * d;
      }
    }
    return 0;
  });
  return pos.empty() ? std::numeric_limits<double>::quiet_NaN() : std::sqrt(se / double(pos.size()));
}

Objective forecast_objective(Model& model, const ForecastTask& task, const Config& cfg) {
  const auto train_pos = positions(task.window, task.val_begin), val_pos = positions(task.val_begin, task.test_begin);
  return {.val_name = "val_rmse",
          .higher_is_better = false,
          .batches = shuffled_batches(int64_t(train_pos.size()), cfg.batch),
          .loss =
              [&model, &task, train_pos](Tape& tape, std::span<const int64_t> idx) {
                Tensor x, y;
                forecast_batch(task, train_pos, idx, x, y);
                return std::pair{mse(forecast(tape, model, x), tape.constant(y)), double(idx.size())};
              },
          .validate = [&model, &task, val_pos] { return forecast_rmse(model, task, val_pos); }};
}

Metrics forecast_metrics(Model& model, const ForecastTask& task) {
  return {{"test_rmse", forecast_rmse(model, task, positions(task.test_begin, int64_t(task.values.size())))}};
}

void check_forecast(CellKind cell) {
  if (cell == CellKind::bilstm)
    throw std::invalid_argument("train_forecast: a BiLSTM is not used for forecasting here");
}

}  // namespace

// ---- results ----------------------------------------------------------------------------------------

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

// ---- encodings -------------------------------------------------------------------------------------

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

// ---- sentiment -------------------------------------------------------------------------------------

Result train_sentiment(const ClassificationTask& task, CellKind cell, const Config& cfg) {
  check_sentiment(task);
  Model model(cell, task.vocab_size, 0, task.classes, cfg);
  Result r = fit(model, cell, cfg, sentiment_objective(model, task, cfg));
  r.metrics = {{"test_accuracy", accuracy(model, task.test, task.classes)}};
  return r;
}

Metrics evaluate_sentiment(const ClassificationTask& task, CellKind cell, const Config& cfg,
                           const NamedTensors& params) {
  auto model = saved_model(cell, task.vocab_size, 0, task.classes, cfg, params);
  return {{"test_accuracy", accuracy(*model, task.test, task.classes)}};
}

// ---- tagging ---------------------------------------------------------------------------------------

Result train_tagging(const TaggingTask& task, CellKind cell, const Config& cfg) {
  check_tagging(task);
  Model model(cell, task.vocab_size, 0, int64_t(task.tagset.size()), cfg);
  Result r = fit(model, cell, cfg, tagging_objective(model, task, cfg));
  r.metrics = tagging_metrics(model, task);
  return r;
}

Metrics evaluate_tagging(const TaggingTask& task, CellKind cell, const Config& cfg, const NamedTensors& params) {
  return tagging_metrics(*saved_model(cell, task.vocab_size, 0, int64_t(task.tagset.size()), cfg, params), task);
}

// ---- char LM ---------------------------------------------------------------------------------------

std::vector<int64_t> lm_train_stream(const data::CharCorpus& corpus, const Config& cfg) {
  return head_of(corpus.train, cfg.lm_train_chars);
}
std::vector<int64_t> lm_val_stream(const data::CharCorpus& corpus, const Config& cfg) {
  return head_of(corpus.val, cfg.lm_val_chars);
}

Result train_char_lm(const data::CharCorpus& corpus, CellKind cell, const Config& cfg) {
  const auto [train_ids, val_ids] = lm_streams(corpus, cell, cfg);
  Model model(cell, corpus.vocab.size(), 0, corpus.vocab.size(), cfg);
  LmStream train(model, train_ids, cfg), val(model, val_ids, cfg);
  Result r = fit(model, cell, cfg,
                 {.val_name = "val_bpc",
                  .higher_is_better = false,
                  .batches = [&train](Rng&) { return train.windows(); },  // in order: the state carries over
                  .loss = [&train](Tape& tape, std::span<const int64_t> w) { return train.loss(tape, w); },
                  .validate = [&val] { return val.bpc(); }});
  r.metrics = {{"val_bpc", r.epochs[size_t(r.best_epoch)].val_metric}};
  return r;
}

Metrics evaluate_char_lm(const data::CharCorpus& corpus, CellKind cell, const Config& cfg, const NamedTensors& params) {
  const auto val_ids = lm_streams(corpus, cell, cfg).second;
  auto model = saved_model(cell, corpus.vocab.size(), 0, corpus.vocab.size(), cfg, params);
  return {{"val_bpc", LmStream(*model, val_ids, cfg).bpc()}};
}

// ---- forecast --------------------------------------------------------------------------------------

ForecastTask encode_forecast(const data::ForecastData& in, int64_t window, const std::string& source) {
  if (window < 1) throw std::invalid_argument("forecast: --window must be >= 1, got " + std::to_string(window));
  ForecastTask t;
  t.window = window;
  t.values = in.train.values;
  t.val_begin = int64_t(t.values.size());
  t.values.insert(t.values.end(), in.val.values.begin(), in.val.values.end());
  t.test_begin = int64_t(t.values.size());
  t.values.insert(t.values.end(), in.test.values.begin(), in.test.values.end());
  if (t.val_begin <= window || t.test_begin == t.val_begin || int64_t(t.values.size()) == t.test_begin)
    throw std::invalid_argument(
        "forecast: " + source + ": " + std::to_string(t.values.size()) + " values are too few for --window " +
        std::to_string(window) + ": needs more than " + std::to_string(window) +
        " training values and non-empty validation and test parts, got " + std::to_string(t.val_begin) + " / " +
        std::to_string(t.test_begin - t.val_begin) + " / " + std::to_string(int64_t(t.values.size()) - t.test_begin));
  std::vector<double> changes;
  for (int64_t i = 1; i < t.val_begin; ++i) changes.push_back(t.values[size_t(i)] - t.values[size_t(i - 1)]);
  const double sd = mean_std(changes).std;
  t.scale = sd > 0 ? sd : 1.0;  // a constant or linear training series: do not divide by zero
  return t;
}

std::vector<int64_t> positions(int64_t begin, int64_t end) {
  std::vector<int64_t> p;
  for (int64_t i = begin; i < end; ++i) p.push_back(i);
  return p;
}

Result train_forecast(const ForecastTask& task, CellKind cell, const Config& cfg) {
  check_forecast(cell);
  Model model(cell, 0, 1, 1, cfg);
  Result r = fit(model, cell, cfg, forecast_objective(model, task, cfg));
  r.metrics = forecast_metrics(model, task);
  return r;
}

Metrics evaluate_forecast(const ForecastTask& task, CellKind cell, const Config& cfg, const NamedTensors& params) {
  check_forecast(cell);
  return forecast_metrics(*saved_model(cell, 0, 1, 1, cfg, params), task);
}

}  // namespace seqgrad::architecture_comparison
