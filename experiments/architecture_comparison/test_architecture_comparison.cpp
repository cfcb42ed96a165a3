// Experiment 2 computations (experiments/common/architecture_comparison.h): macro-F1, the
// persistence baseline and mean ± std against hand-computed values; every task trained for a step
// or two on tiny in-memory data (finite metrics, parameter counts by formula); bitwise determinism
// across repeated runs and thread counts.
#include <tbb/global_control.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/rng.h"
#include "experiments/architecture_comparison/architecture_comparison.h"

using namespace seqgrad;
namespace ac = seqgrad::architecture_comparison;
namespace data = seqgrad::experiments::data;

namespace {

ac::Config tiny_config() {
  ac::Config c;
  c.embed = 6;
  c.hidden = 5;
  c.batch = 4;
  c.epochs = 2;
  c.lr = 1e-2;
  c.min_count = 1;
  c.bptt = 6;
  c.window = 4;
  c.seed = 5;
  return c;
}

// Sentences whose label is told by one word ("good" / "bad") among fillers.
data::ClassificationData tiny_sentiment() {
  data::ClassificationData d;
  d.classes = {"negative", "positive"};
  Rng rng(11);
  const std::vector<std::string> fill = {"the", "film", "was", "very", "plot"};
  auto make = [&](int n, std::vector<data::TextExample>& out) {
    for (int i = 0; i < n; ++i) {
      const int64_t label = int64_t(rng.below(2));
      std::string text;
      for (int k = 0; k < 2 + int(rng.below(4)); ++k) text += fill[rng.below(fill.size())] + " ";
      text += label ? "good" : "bad";
      out.push_back({text, label, "memory", i + 1});
    }
  };
  make(16, d.train), make(6, d.val), make(6, d.test);
  return d;
}

data::TaggingData tiny_tagging() {
  data::TaggingData d;
  d.tagset = {"DET", "NOUN", "VERB"};
  Rng rng(12);
  const std::vector<std::pair<std::string, std::string>> words = {
      {"the", "DET"}, {"a", "DET"}, {"dog", "NOUN"}, {"Cat", "NOUN"}, {"runs", "VERB"}, {"sees", "VERB"}};
  auto make = [&](int n, std::vector<data::TaggedSentence>& out) {
    for (int i = 0; i < n; ++i) {
      data::TaggedSentence s;
      for (int k = 0; k < 2 + int(rng.below(5)); ++k) {
        const auto& [w, t] = words[rng.below(words.size())];
        s.words.push_back(w), s.tags.push_back(t);
      }
      out.push_back(s);
    }
  };
  make(12, d.train), make(5, d.val), make(5, d.test);
  return d;
}

data::CharCorpus tiny_corpus() {
  const std::string text = "abcabcabdabcabcabdabcabcabdabcabcabdabcabcabdabcabcabdabcabcabd";
  std::vector<std::string> chars;
  for (char ch : text) chars.push_back(std::string(1, ch));
  data::CharCorpus c;
  c.vocab = data::Vocabulary::build({chars}, {.order = data::Vocabulary::Order::sorted});
  const std::vector<int64_t> ids = c.vocab.encode(chars);
  c.train.assign(ids.begin(), ids.begin() + 45);
  c.val.assign(ids.begin() + 45, ids.end());
  c.characters = int64_t(ids.size());
  return c;
}

data::ForecastData tiny_series() {
  data::ForecastData d;
  for (int i = 0; i < 60; ++i) {
    const double v = 10 + 5 * std::sin(i * 0.5);
    (i < 40 ? d.train : i < 50 ? d.val : d.test).values.push_back(v);
  }
  return d;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Everything deterministic in two results (not the wall-clock seconds).
void require_identical(const ac::Result& a, const ac::Result& b) {
  REQUIRE(a.num_parameters == b.num_parameters);
  REQUIRE(a.best_epoch == b.best_epoch);
  REQUIRE(a.epochs.size() == b.epochs.size());
  for (size_t e = 0; e < a.epochs.size(); ++e) {
    REQUIRE(same_bits(a.epochs[e].train_loss, b.epochs[e].train_loss));
    REQUIRE(same_bits(a.epochs[e].val_metric, b.epochs[e].val_metric));
  }
  REQUIRE(a.metrics.size() == b.metrics.size());
  for (size_t i = 0; i < a.metrics.size(); ++i) {
    REQUIRE(a.metrics[i].first == b.metrics[i].first);
    REQUIRE(same_bits(a.metrics[i].second, b.metrics[i].second));
  }
}

void require_finite(const ac::Result& r, size_t epochs) {
  REQUIRE(r.epochs.size() == epochs);
  for (const ac::Epoch& e : r.epochs) {
    REQUIRE(std::isfinite(e.train_loss));
    REQUIRE(std::isfinite(e.val_metric));
    REQUIRE(e.seconds >= 0);
  }
  REQUIRE(!r.metrics.empty());
  for (const auto& [name, v] : r.metrics) {
    INFO(name);
    REQUIRE(std::isfinite(v));
  }
  REQUIRE(r.best_epoch >= 0);
  REQUIRE(r.best_epoch < int64_t(epochs));
}

}  // namespace

TEST_CASE("architecture comparison: macro-F1 against hand-computed values", "[experiments][architecture]") {
  // class 0: TP 1, FP 1, FN 1 -> 0.5; class 1: TP 2, FP 1, FN 0 -> 0.8; class 2: TP 0, FN 1 -> 0;
  // class 3 never occurs and is not averaged.
  const std::vector<int64_t> gold = {0, 0, 1, 1, 2}, pred = {0, 1, 1, 1, 0};
  REQUIRE(ac::macro_f1(gold, pred, 4) == Approx((0.5 + 0.8 + 0.0) / 3).epsilon(1e-15));
  REQUIRE(ac::macro_f1(gold, gold, 4) == 1.0);
  const std::vector<int64_t> bad = {0, 5, 1, 1, 2}, shorter = {0, 1};
  REQUIRE_THROWS_AS(ac::macro_f1(gold, bad, 4), std::invalid_argument);
  REQUIRE_THROWS_AS(ac::macro_f1(gold, shorter, 4), std::invalid_argument);
  REQUIRE_THROWS_AS(ac::macro_f1({}, {}, 4), std::invalid_argument);
}

TEST_CASE("architecture comparison: persistence baseline and normalisation by hand", "[experiments][architecture]") {
  data::ForecastData d;
  d.train.values = {1, 2, 3, 4};
  d.val.values = {5, 7};
  d.test.values = {6, 9, 9};
  const ac::ForecastTask t = ac::encode_forecast(d, 2);
  REQUIRE(t.val_begin == 4);
  REQUIRE(t.test_begin == 6);
  REQUIRE(t.mean == 2.5);
  REQUIRE(t.std == Approx(std::sqrt(5.0 / 3.0)).epsilon(1e-15));
  // test targets 6, 9, 9 predicted by 7, 6, 9: errors −1, 3, 0
  REQUIRE(ac::persistence_rmse(t) == Approx(std::sqrt(10.0 / 3.0)).epsilon(1e-15));
  REQUIRE_THROWS_AS(ac::encode_forecast(d, 4), std::invalid_argument);  // no training target left
  const std::vector<double> v = {1, 2, 3, 4};
  REQUIRE(ac::mean_std(v).mean == 2.5);
  REQUIRE(ac::mean_std(v).std == Approx(std::sqrt(5.0 / 3.0)).epsilon(1e-15));
  REQUIRE(ac::mean_std(std::vector<double>{3.0}).std == 0.0);
}

TEST_CASE("architecture comparison: cell names", "[experiments][architecture]") {
  for (auto k : {ac::CellKind::rnn, ac::CellKind::lstm, ac::CellKind::gru, ac::CellKind::bilstm})
    REQUIRE(ac::parse_cell(ac::cell_name(k)) == k);
  REQUIRE(ac::parse_cell("elman") == ac::CellKind::rnn);
  REQUIRE_THROWS_WITH(ac::parse_cell("tcn"), Catch::Contains("tcn") && Catch::Contains("bilstm"));
}

TEST_CASE("architecture comparison: sentiment trains and reports finite accuracy", "[experiments][architecture]") {
  const ac::Config cfg = tiny_config();
  const ac::ClassificationTask task = ac::encode_classification(tiny_sentiment(), cfg);
  REQUIRE(task.classes == 2);
  REQUIRE(task.train.x.size() == 16);
  const int64_t I = cfg.embed, H = cfg.hidden;
  for (auto cell : {ac::CellKind::rnn, ac::CellKind::lstm, ac::CellKind::gru, ac::CellKind::bilstm}) {
    INFO(ac::cell_name(cell));
    const ac::Result r = ac::train_sentiment(task, cell, cfg);
    require_finite(r, 2);
    const double acc = r.metric("test_accuracy");
    REQUIRE(acc >= 0.0);
    REQUIRE(acc <= 1.0);
    // The recurrent layer's size by the cells' formulas.
    const int64_t expected = cell == ac::CellKind::rnn    ? H * (H + I) + H
                             : cell == ac::CellKind::lstm ? 4 * (H * (H + I) + H)
                             : cell == ac::CellKind::gru  ? 3 * (H * (H + I) + H) + H
                                                          : 2 * 4 * (H * (H + I) + H);
    REQUIRE(r.recurrent_parameters == expected);
  }
  require_identical(ac::train_sentiment(task, ac::CellKind::gru, cfg), ac::train_sentiment(task, ac::CellKind::gru, cfg));
}

TEST_CASE("architecture comparison: tagging trains, caps and reports accuracy and macro-F1", "[experiments][architecture]") {
  ac::Config cfg = tiny_config();
  const data::TaggingData d = tiny_tagging();
  ac::Config capped = cfg;
  capped.max_train = 5;
  capped.max_eval = 2;
  const ac::TaggingTask small = ac::encode_tagging(d, capped);
  REQUIRE(small.train.x.size() == 5);
  REQUIRE(small.val.x.size() == 2);
  const ac::TaggingTask task = ac::encode_tagging(d, cfg);
  REQUIRE(task.train.x.size() == 12);
  for (size_t i = 0; i < task.train.x.size(); ++i) REQUIRE(task.train.x[i].size() == task.train.y[i].size());
  for (auto cell : {ac::CellKind::lstm, ac::CellKind::bilstm}) {
    const ac::Result r = ac::train_tagging(task, cell, cfg);
    require_finite(r, 2);
    REQUIRE(r.metric("test_token_accuracy") <= 1.0);
    REQUIRE(r.metric("test_macro_f1") >= 0.0);
    REQUIRE(r.metric("test_macro_f1") <= 1.0);
  }
  cfg.epochs = 1;
  require_identical(ac::train_tagging(task, ac::CellKind::rnn, cfg), ac::train_tagging(task, ac::CellKind::rnn, cfg));
}

TEST_CASE("architecture comparison: char LM trains with truncated BPTT and reports bits per character",
          "[experiments][architecture]") {
  const ac::Config cfg = tiny_config();
  const data::CharCorpus corpus = tiny_corpus();
  for (auto cell : {ac::CellKind::rnn, ac::CellKind::lstm, ac::CellKind::gru}) {
    const ac::Result r = ac::train_char_lm(corpus, cell, cfg);
    require_finite(r, 2);
    REQUIRE(r.metric("val_bpc") > 0);
    REQUIRE(r.metric("val_bpc") == r.epochs[size_t(r.best_epoch)].val_metric);
  }
  REQUIRE_THROWS_AS(ac::train_char_lm(corpus, ac::CellKind::bilstm, cfg), std::invalid_argument);
  require_identical(ac::train_char_lm(corpus, ac::CellKind::lstm, cfg), ac::train_char_lm(corpus, ac::CellKind::lstm, cfg));
}

TEST_CASE("architecture comparison: forecasting trains and reports RMSE next to persistence", "[experiments][architecture]") {
  const ac::Config cfg = tiny_config();
  const ac::ForecastTask task = ac::encode_forecast(tiny_series(), cfg.window);
  for (auto cell : {ac::CellKind::rnn, ac::CellKind::gru}) {
    const ac::Result r = ac::train_forecast(task, cell, cfg);
    require_finite(r, 2);
    REQUIRE(r.metric("test_rmse") > 0);
    REQUIRE(r.metric("persistence_rmse") == ac::persistence_rmse(task));
  }
  REQUIRE_THROWS_AS(ac::train_forecast(task, ac::CellKind::bilstm, cfg), std::invalid_argument);
}

TEST_CASE("architecture comparison: same seed, same bits at 1 and 2 threads", "[experiments][architecture]") {
  const ac::Config cfg = tiny_config();
  const ac::ClassificationTask task = ac::encode_classification(tiny_sentiment(), cfg);
  const ac::ForecastTask series = ac::encode_forecast(tiny_series(), cfg.window);
  ac::Result s1, f1;
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    s1 = ac::train_sentiment(task, ac::CellKind::bilstm, cfg);
    f1 = ac::train_forecast(series, ac::CellKind::lstm, cfg);
  }
  tbb::global_control two(tbb::global_control::max_allowed_parallelism, 2);
  require_identical(s1, ac::train_sentiment(task, ac::CellKind::bilstm, cfg));
  require_identical(f1, ac::train_forecast(series, ac::CellKind::lstm, cfg));
  ac::Config other = cfg;
  other.seed = 6;
  REQUIRE(!same_bits(ac::train_forecast(series, ac::CellKind::lstm, other).epochs[0].train_loss, f1.epochs[0].train_loss));
}
