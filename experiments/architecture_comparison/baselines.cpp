// Each task's baselines. See baselines.h.
#include "experiments/architecture_comparison/baselines.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>

namespace seqgrad::architecture_comparison {

namespace {

// Index of the largest count (the first on ties).
int64_t most_frequent(const std::vector<int64_t>& counts) {
  return int64_t(std::max_element(counts.begin(), counts.end()) - counts.begin());
}

double fraction_equal(const std::vector<int64_t>& gold, const std::vector<int64_t>& predicted) {
  int64_t same = 0;
  for (size_t i = 0; i < gold.size(); ++i) same += gold[i] == predicted[i];
  return gold.empty() ? 0.0 : double(same) / double(gold.size());
}

// Tagging: every token's gold tag and the tag predicted by `tag_of(word)`.
template <typename F>
std::pair<double, double> tag_scores(const TaggingSplit& s, int64_t tags, F tag_of) {
  std::vector<int64_t> gold, pred;
  for (size_t i = 0; i < s.x.size(); ++i)
    for (size_t k = 0; k < s.x[i].size(); ++k) gold.push_back(s.y[i][k]), pred.push_back(tag_of(s.x[i][k]));
  if (gold.empty()) return {0.0, 0.0};
  return {fraction_equal(gold, pred), macro_f1(gold, pred, tags)};
}

Baseline tagging_baseline(const std::string& name, const TaggingTask& task,
                          const std::function<int64_t(int64_t)>& tag_of) {
  const int64_t tags = int64_t(task.tagset.size());
  const auto [acc, f1] = tag_scores(task.test, tags, tag_of);
  return {name, tag_scores(task.val, tags, tag_of).first, {{"test_token_accuracy", acc}, {"test_macro_f1", f1}}};
}

// Mean −log2 p over eval[i], i >= 1, with p from `prob(previous, current)`.
template <typename F>
double mean_bits(const std::vector<int64_t>& eval, F prob) {
  double bits = 0;
  for (size_t i = 1; i < eval.size(); ++i) bits -= std::log2(prob(eval[i - 1], eval[i]));
  return eval.size() > 1 ? bits / double(eval.size() - 1) : std::numeric_limits<double>::quiet_NaN();
}

void check_ids(const std::vector<int64_t>& ids, int64_t vocab, const char* what) {
  for (int64_t id : ids)
    if (id < 0 || id >= vocab)
      throw std::invalid_argument(std::string(what) + ": character id " + std::to_string(id) +
                                  " outside the vocabulary of " + std::to_string(vocab));
}

}  // namespace

std::vector<Baseline> sentiment_baselines(const ClassificationTask& task) {
  std::vector<int64_t> counts(size_t(std::max<int64_t>(task.classes, 1)));
  for (int64_t y : task.train.y) ++counts[size_t(y)];
  const int64_t majority = most_frequent(counts);
  auto acc = [&](const ClassificationSplit& s) {
    return fraction_equal(s.y, std::vector<int64_t>(s.y.size(), majority));
  };
  return {{"majority", acc(task.val), {{"test_accuracy", acc(task.test)}}}};
}

std::vector<Baseline> tagging_baselines(const TaggingTask& task) {
  const size_t tags = std::max<size_t>(task.tagset.size(), 1);
  std::vector<int64_t> overall(tags);
  std::map<int64_t, std::vector<int64_t>> per_word;
  for (size_t i = 0; i < task.train.x.size(); ++i)
    for (size_t k = 0; k < task.train.x[i].size(); ++k) {
      ++overall[size_t(task.train.y[i][k])];
      auto& counts = per_word[task.train.x[i][k]];
      counts.resize(tags);
      ++counts[size_t(task.train.y[i][k])];
    }
  const int64_t majority = most_frequent(overall);
  std::map<int64_t, int64_t> word_tag;
  for (const auto& [word, counts] : per_word) word_tag[word] = most_frequent(counts);
  return {tagging_baseline("majority", task, [&](int64_t) { return majority; }),
          tagging_baseline("per_word", task, [&](int64_t w) {
            auto it = word_tag.find(w);
            return it == word_tag.end() ? majority : it->second;
          })};
}

double unigram_bpc(const std::vector<int64_t>& train, const std::vector<int64_t>& eval, int64_t vocab) {
  check_ids(train, vocab, "unigram_bpc"), check_ids(eval, vocab, "unigram_bpc");
  std::vector<double> counts(static_cast<size_t>(vocab));
  for (int64_t c : train) ++counts[size_t(c)];
  const double total = double(train.size() + size_t(vocab));
  return mean_bits(eval, [&](int64_t, int64_t c) { return (counts[size_t(c)] + 1) / total; });
}

double bigram_bpc(const std::vector<int64_t>& train, const std::vector<int64_t>& eval, int64_t vocab) {
  check_ids(train, vocab, "bigram_bpc"), check_ids(eval, vocab, "bigram_bpc");
  std::map<std::pair<int64_t, int64_t>, double> pairs;
  std::vector<double> contexts(static_cast<size_t>(vocab));
  for (size_t i = 1; i < train.size(); ++i) ++pairs[{train[i - 1], train[i]}], ++contexts[size_t(train[i - 1])];
  return mean_bits(eval, [&](int64_t b, int64_t c) {
    auto it = pairs.find({b, c});
    return ((it == pairs.end() ? 0.0 : it->second) + 1) / (contexts[size_t(b)] + double(vocab));
  });
}

std::vector<Baseline> lm_baselines(const data::CharCorpus& corpus, const Config& cfg) {
  const auto train = lm_train_stream(corpus, cfg), val = lm_val_stream(corpus, cfg);
  const int64_t V = corpus.vocab.size();
  const double uni = unigram_bpc(train, val, V), bi = bigram_bpc(train, val, V);
  return {{"unigram", uni, {{"val_bpc", uni}}}, {"bigram", bi, {{"val_bpc", bi}}}};
}

double lag_rmse(const ForecastTask& t, int64_t lag, int64_t begin, int64_t end) {
  if (lag < 1 || begin - lag < 0 || begin >= end || end > int64_t(t.values.size()))
    throw std::invalid_argument("lag_rmse: lag " + std::to_string(lag) + " over [" + std::to_string(begin) + ", " +
                                std::to_string(end) + ") reaches outside the " + std::to_string(t.values.size()) +
                                " values");
  double se = 0;
  for (int64_t i = begin; i < end; ++i) {
    const double d = t.values[size_t(i)] - t.values[size_t(i - lag)];
    se += d * d;
  }
  return std::sqrt(se / double(end - begin));
}

double persistence_rmse(const ForecastTask& t) { return lag_rmse(t, 1, t.test_begin, int64_t(t.values.size())); }

std::vector<Baseline> forecast_baselines(const ForecastTask& t, int64_t season) {
  if (season < 1 || season > t.val_begin)
    throw std::invalid_argument("forecast: --season " + std::to_string(season) + " must be from 1 to the " +
                                std::to_string(t.val_begin) + " training values");
  const int64_t end = int64_t(t.values.size());
  auto baseline = [&](const std::string& name, int64_t lag) {
    return Baseline{
        name, lag_rmse(t, lag, t.val_begin, t.test_begin), {{"test_rmse", lag_rmse(t, lag, t.test_begin, end)}}};
  };
  return {baseline("persistence", 1), baseline("seasonal_naive", season)};
}

}  // namespace seqgrad::architecture_comparison
