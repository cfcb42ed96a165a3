// Experiment 2 computations (architecture_comparison.h, baselines.h, verdicts.h): macro-F1, the
// baselines and the per-window forecast normalisation against hand-computed values; every task
// trained for a step or two on tiny in-memory data (finite metrics, parameter counts by formula);
// training beats each task's baseline; saved results and models come back bit for bit (--resume,
// --eval-only); the claims' verdicts follow compare(); bitwise determinism across thread counts.
#include <tbb/global_control.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "autograd/rng.h"
#include "experiments/architecture_comparison/architecture_comparison.h"
#include "experiments/architecture_comparison/baselines.h"
#include "experiments/architecture_comparison/task_specs.h"
#include "experiments/architecture_comparison/verdicts.h"
#include "temp_dir.h"

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
  const std::vector<std::pair<std::string, std::string>> words = {{"the", "DET"},  {"a", "DET"},     {"dog", "NOUN"},
                                                                  {"Cat", "NOUN"}, {"runs", "VERB"}, {"sees", "VERB"}};
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

TEST_CASE("architecture comparison: persistence baseline and per-window normalisation by hand",
          "[experiments][architecture]") {
  data::ForecastData d;
  d.train.values = {1, 2, 3, 4};
  d.val.values = {5, 7};
  d.test.values = {6, 9, 9};
  const ac::ForecastTask t = ac::encode_forecast(d, 2);
  REQUIRE(t.val_begin == 4);
  REQUIRE(t.test_begin == 6);
  REQUIRE(t.scale == 1.0);  // training changes 1, 1, 1: no spread, so no scaling
  // test targets 6, 9, 9 predicted by 7, 6, 9: errors −1, 3, 0
  REQUIRE(ac::persistence_rmse(t) == Approx(std::sqrt(10.0 / 3.0)).epsilon(1e-15));
  d.train.values = {1, 2, 4, 7};  // changes 1, 2, 3: std 1
  REQUIRE(ac::encode_forecast(d, 2).scale == Approx(1.0).epsilon(1e-15));
  d.train.values = {0, 2, 0, 2};  // changes 2, −2, 2: std sqrt(16/3)
  REQUIRE(ac::encode_forecast(d, 2).scale == Approx(std::sqrt(16.0 / 3.0)).epsilon(1e-15));
  const std::vector<double> v = {1, 2, 3, 4};
  REQUIRE(ac::mean_std(v).mean == 2.5);
  REQUIRE(ac::mean_std(v).std == Approx(std::sqrt(5.0 / 3.0)).epsilon(1e-15));
  REQUIRE(ac::mean_std(std::vector<double>{3.0}).std == 0.0);
}

TEST_CASE("architecture comparison: too short a series names the file and --window", "[experiments][architecture]") {
  data::ForecastData d;
  d.train.values = {1, 2, 3, 4};
  d.val.values = {5, 7};
  d.test.values = {6, 9, 9};
  REQUIRE_THROWS_WITH(ac::encode_forecast(d, 4, "my/births.csv"),
                      Catch::Contains("my/births.csv") && Catch::Contains("9 values are too few for --window 4"));
  REQUIRE_THROWS_WITH(ac::encode_forecast(d, 0, "x.csv"), Catch::Contains("--window"));
}

TEST_CASE("architecture comparison: baselines by hand", "[experiments][architecture]") {
  ac::ClassificationTask c;
  c.classes = 2;
  c.train.y = {1, 1, 0};
  c.val.y = {1, 0};
  c.test.y = {0, 0, 0, 1};
  const auto cb = ac::sentiment_baselines(c);
  REQUIRE(cb.size() == 1);
  REQUIRE(cb[0].val == 0.5);
  REQUIRE(cb[0].metrics == ac::Metrics{{"test_accuracy", 0.25}});

  ac::TaggingTask t;
  t.tagset = {"A", "B", "C"};
  t.train.x = {{5, 6, 5}, {6, 7}};  // word 5: A, A; 6: B, C -> B (first of the tie); 7: B
  t.train.y = {{0, 1, 0}, {2, 1}};
  t.val.x = {{5, 6}};
  t.val.y = {{0, 2}};
  t.test.x = {{5, 7, 9}};  // 9 unseen: the majority tag (A: 2, B: 2 -> A, the first)
  t.test.y = {{0, 1, 1}};
  const auto tb = ac::tagging_baselines(t);
  REQUIRE(tb[0].name == "majority");
  REQUIRE(tb[0].metrics[0].second == Approx(1.0 / 3));
  REQUIRE(tb[1].name == "per_word");
  REQUIRE(tb[1].val == 0.5);
  REQUIRE(tb[1].metrics[0].second == Approx(2.0 / 3));

  // Unigram over V = 3 from train {0, 0, 1}: p = 3/6, 2/6, 1/6; eval {1, 0, 2} scores 0 then 2.
  REQUIRE(ac::unigram_bpc({0, 0, 1}, {1, 0, 2}, 3) == Approx(-(std::log2(3.0 / 6) + std::log2(1.0 / 6)) / 2));
  // Bigram: pairs (0,0), (0,1); context 0 twice: p(0|1) = 1/3 (unseen context), p(2|0) = 1/5.
  REQUIRE(ac::bigram_bpc({0, 0, 1}, {1, 0, 2}, 3) == Approx(-(std::log2(1.0 / 3) + std::log2(1.0 / 5)) / 2));

  data::ForecastData d;
  d.train.values = {1, 2, 3, 4};
  d.val.values = {5, 7};
  d.test.values = {6, 9, 9};
  const auto fb = ac::forecast_baselines(ac::encode_forecast(d, 2), 2);
  REQUIRE(fb[0].name == "persistence");
  REQUIRE(fb[1].name == "seasonal_naive");  // test 6, 9, 9 by 5, 7, 6: errors 1, 2, 3
  REQUIRE(fb[1].metrics[0].second == Approx(std::sqrt(14.0 / 3)).epsilon(1e-15));
  REQUIRE(fb[1].val == Approx(std::sqrt((4.0 + 9) / 2)).epsilon(1e-15));  // val 5, 7 by 3, 4
  REQUIRE_THROWS_WITH(ac::forecast_baselines(ac::encode_forecast(d, 2), 5), Catch::Contains("--season 5"));
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
  require_identical(ac::train_sentiment(task, ac::CellKind::gru, cfg),
                    ac::train_sentiment(task, ac::CellKind::gru, cfg));
}

TEST_CASE("architecture comparison: tagging trains, caps and reports accuracy and macro-F1",
          "[experiments][architecture]") {
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
  require_identical(ac::train_char_lm(corpus, ac::CellKind::lstm, cfg),
                    ac::train_char_lm(corpus, ac::CellKind::lstm, cfg));
}

TEST_CASE("architecture comparison: forecasting trains and reports RMSE next to persistence",
          "[experiments][architecture]") {
  const ac::Config cfg = tiny_config();
  const ac::ForecastTask task = ac::encode_forecast(tiny_series(), cfg.window);
  for (auto cell : {ac::CellKind::rnn, ac::CellKind::gru}) {
    const ac::Result r = ac::train_forecast(task, cell, cfg);
    require_finite(r, 2);
    REQUIRE(r.metric("test_rmse") > 0);
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
  REQUIRE(
      !same_bits(ac::train_forecast(series, ac::CellKind::lstm, other).epochs[0].train_loss, f1.epochs[0].train_loss));
}

TEST_CASE("architecture comparison: training beats each task's baseline on learnable data",
          "[experiments][architecture]") {
  ac::Config cfg = tiny_config();
  cfg.hidden = 8;
  cfg.embed = 8;
  cfg.epochs = 12;
  // Sentiment: the label is one word among fillers; the majority class is at most ~0.5-0.7.
  data::ClassificationData sd = tiny_sentiment();
  const ac::ClassificationTask st = ac::encode_classification(sd, cfg);
  const ac::Result sr = ac::train_sentiment(st, ac::CellKind::gru, cfg);
  INFO("sentiment accuracy " << sr.metric("test_accuracy") << " vs majority "
                             << ac::sentiment_baselines(st)[0].metrics[0].second);
  CHECK(sr.metric("test_accuracy") >= ac::sentiment_baselines(st)[0].metrics[0].second + 0.15);
  // Forecast on a TRENDING series (its test part above every training value): the model predicts
  // changes, so it beats persistence; with whole-series normalisation it could not.
  data::ForecastData fd;
  Rng noise(3);
  for (int i = 0; i < 160; ++i) {
    const double v = 10 + 0.5 * i + 4 * std::sin(i * 2 * M_PI / 8) + 0.3 * noise.normal();
    (i < 110 ? fd.train : i < 135 ? fd.val : fd.test).values.push_back(v);
  }
  const ac::ForecastTask ft = ac::encode_forecast(fd, 8);
  cfg.epochs = 20;
  const ac::Result fr = ac::train_forecast(ft, ac::CellKind::gru, cfg);
  INFO("forecast RMSE " << fr.metric("test_rmse") << " vs persistence " << ac::persistence_rmse(ft));
  CHECK(fr.metric("test_rmse") < 0.7 * ac::persistence_rmse(ft));
}

TEST_CASE("architecture comparison: a saved result comes back bit for bit and re-evaluates to its metrics",
          "[experiments][architecture]") {
  const ac::Config cfg = tiny_config();
  const ac::ClassificationTask task = ac::encode_classification(tiny_sentiment(), cfg);
  const ac::Result r = ac::train_sentiment(task, ac::CellKind::lstm, cfg);
  const ac::Result back = ac::result_from(nn::decode_checkpoint(nn::encode_checkpoint(ac::to_checkpoint(r))), "unit");
  require_identical(r, back);
  REQUIRE(back.cell == r.cell);
  REQUIRE(back.seed == r.seed);
  REQUIRE(back.recurrent_parameters == r.recurrent_parameters);
  REQUIRE(back.val_name == r.val_name);
  REQUIRE(back.higher_is_better == r.higher_is_better);
  REQUIRE(back.parameters.size() == r.parameters.size());
  for (size_t e = 0; e < r.epochs.size(); ++e) REQUIRE(same_bits(back.epochs[e].cpu_seconds, r.epochs[e].cpu_seconds));
  // --eval-only: the saved parameters give the test metrics of the training run, bitwise.
  const ac::Metrics m = ac::evaluate_sentiment(task, ac::CellKind::lstm, cfg, back.parameters);
  REQUIRE(same_bits(m.at(0).second, r.metric("test_accuracy")));
  const ac::ForecastTask series = ac::encode_forecast(tiny_series(), cfg.window);
  const ac::Result f = ac::train_forecast(series, ac::CellKind::rnn, cfg);
  REQUIRE(same_bits(ac::evaluate_forecast(series, ac::CellKind::rnn, cfg, f.parameters).at(0).second,
                    f.metric("test_rmse")));
  const ac::Result l = ac::train_char_lm(tiny_corpus(), ac::CellKind::gru, cfg);
  REQUIRE(same_bits(ac::evaluate_char_lm(tiny_corpus(), ac::CellKind::gru, cfg, l.parameters).at(0).second,
                    l.metric("val_bpc")));
  nn::Checkpoint broken = ac::to_checkpoint(r);
  broken.texts.erase("best_epoch");
  REQUIRE_THROWS_WITH(ac::result_from(broken, "units/lstm_seed5"),
                      Catch::Contains("units/lstm_seed5") && Catch::Contains("best_epoch"));
}

namespace {

// A task outcome with the given primary-metric values per seed (and per-epoch CPU seconds).
ac::CellStats cell_stats(ac::CellKind cell, const std::vector<double>& metric,
                         const std::vector<double>& cpu = {1, 1}) {
  ac::CellStats cs;
  cs.cell = cell;
  for (size_t i = 0; i < metric.size(); ++i) {
    ac::Result r;
    r.cell = cell;
    r.seed = i + 1;
    r.metrics = {{"acc", metric[i]}};
    for (double c : cpu) r.epochs.push_back({.cpu_seconds = c + 0.001 * double(i)});
    cs.seeds.push_back(r);
  }
  return cs;
}

ac::TaskOutcome outcome(std::vector<ac::CellStats> cells) {
  return {.task = "t", .primary = "acc", .higher = true, .cells = std::move(cells)};
}

}  // namespace

TEST_CASE("architecture comparison: the claims follow compare(), inconclusive below 3 seeds",
          "[experiments][architecture]") {
  using ac::CellKind;
  // Two seeds: whatever the gap, every comparison claim is inconclusive.
  const auto two = outcome({cell_stats(CellKind::rnn, {0.5, 0.51}), cell_stats(CellKind::lstm, {0.9, 0.91}),
                            cell_stats(CellKind::gru, {0.7, 0.71})});
  REQUIRE(ac::rnn_claim({two}).verdict == "inconclusive");
  REQUIRE(ac::gru_lstm_claim({two, two}).verdict == "inconclusive");
  REQUIRE_THAT(ac::rnn_claim({two}).expected, Catch::Contains(experiments::kVerdictRuleShort));
  // Three seeds, clear gaps: the gated cells beat the RNN; LSTM better than GRU on both tasks.
  const auto three =
      outcome({cell_stats(CellKind::rnn, {0.5, 0.51, 0.52}), cell_stats(CellKind::lstm, {0.9, 0.91, 0.92}),
               cell_stats(CellKind::gru, {0.7, 0.71, 0.72})});
  REQUIRE(ac::rnn_claim({three}).verdict == "holds");
  REQUIRE(ac::gru_lstm_claim({three, three}).verdict == "does not hold");
  REQUIRE(ac::gru_lstm_claim({three}).verdict == "inconclusive");  // one task cannot show "consistently"
  // Within the seeds' noise: the RNN is not beaten, and neither gated cell wins.
  const auto noisy = outcome({cell_stats(CellKind::rnn, {0.5, 0.9, 0.7}), cell_stats(CellKind::lstm, {0.6, 0.8, 0.7}),
                              cell_stats(CellKind::gru, {0.7, 0.6, 0.8})});
  REQUIRE(ac::rnn_claim({noisy}).verdict == "does not hold");
  REQUIRE(ac::gru_lstm_claim({noisy, three}).verdict == "holds");
}

TEST_CASE("architecture comparison: the hidden-512 parameter counts hold for two layers of input 512",
          "[experiments][architecture]") {
  const experiments::Claim c = ac::hidden512_parameter_claim();
  // LSTM 4·(512·(512 + 512) + 512) per layer, GRU 3·(512·1024 + 512) + 512 (b_hn).
  CHECK(c.measured ==
        "1 layer, input 512: lstm 2099200, gru 1574912; 2 layers, input 512: lstm 4198400, gru 3149824; "
        "fits: 2 layers, input 512");
  CHECK(c.verdict == "holds");
}

TEST_CASE("architecture comparison: the speed claim needs a difference beyond timing noise",
          "[experiments][architecture]") {
  using ac::CellKind;
  auto speed = [](std::vector<double> lstm, std::vector<double> gru) {
    return ac::speed_claim({outcome({cell_stats(CellKind::lstm, {0.5}, lstm), cell_stats(CellKind::gru, {0.5}, gru)})})
        .verdict;
  };
  REQUIRE(speed({1.0, 1.0, 1.0}, {0.75, 0.75, 0.75}) == "holds");          // 25% faster, clearly
  REQUIRE(speed({1.0, 1.0, 1.0}, {0.95, 0.95, 0.95}) == "does not hold");  // 5% faster, clearly
  REQUIRE(speed({1.0, 0.5, 1.5}, {0.75, 1.25, 0.25}) == "inconclusive");   // 25% on average, in the noise
  REQUIRE(speed({1.0}, {0.75}) == "inconclusive");                         // one sample each
}

namespace {

// The program's option table parsed from `args` (the program name is added).
experiments::Program parsed_program(std::vector<std::string> args) {
  experiments::Program p("architecture_comparison", "test");
  ac::declare_options(p);
  args.insert(args.begin(), p.name());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  REQUIRE(p.parse(int(argv.size()), argv.data()));
  return p;
}

}  // namespace

TEST_CASE("architecture comparison: --data-* narrows the tasks and names the run after the file",
          "[experiments][architecture]") {
  testing::TempDir tmp("ac-tasks");
  std::ofstream(tmp.file("co2.csv")) << "value\n";
  {
    std::ofstream f(tmp.file("co2.csv"), std::ios::app);
    for (int i = 0; i < 80; ++i) f << 300 + 0.1 * i + std::sin(i) << "\n";
  }
  const auto only_series = parsed_program({"--data-series", tmp.file("co2.csv"), "--window", "6", "--cells", "gru"});
  REQUIRE(ac::chosen_tasks(only_series) == std::vector<std::string>{"forecast"});
  const auto specs = ac::load_tasks(only_series, ac::chosen_tasks(only_series), ac::Config{.window = 6});
  REQUIRE(specs.size() == 1);
  REQUIRE(specs[0].run == "forecast-co2");  // a second series never replaces forecast/ or another file's run
  REQUIRE_THAT(specs[0].title, Catch::Contains("co2") && !Catch::Contains("sunspot"));
  REQUIRE(specs[0].files.size() == 1);
  REQUIRE(specs[0].files[0].path == tmp.file("co2.csv"));
  REQUIRE(specs[0].baselines.size() == 2);
  REQUIRE(ac::chosen_tasks(parsed_program({"--data-series", "x.csv", "--tasks", "lm,forecast"})) ==
          std::vector<std::string>{"lm", "forecast"});
  REQUIRE(ac::chosen_tasks(parsed_program({})).size() == 4);
  // A too-short series fails while loading (before any training), naming the file and --window.
  const auto long_window = parsed_program({"--data-series", tmp.file("co2.csv"), "--window", "70"});
  REQUIRE_THROWS_WITH(ac::load_tasks(long_window, {"forecast"}, ac::Config{.window = 70}),
                      Catch::Contains("co2.csv") && Catch::Contains("--window 70"));
}
