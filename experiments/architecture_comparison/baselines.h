// Each task's baselines: the reference points its models must beat to have learned anything, in
// every task's tables and plots. Estimated on the training part only, evaluated like the models:
//   sentiment  majority class;
//   tagging    majority tag, and the most frequent tag of each word (unseen words: majority tag);
//   char LM    unigram and bigram models, add-one smoothing over the vocabulary (bits per char);
//   forecast   persistence (the last value) and seasonal naive (the value one season back).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/architecture_comparison/architecture_comparison.h"

namespace seqgrad::architecture_comparison {

struct Baseline {
  std::string name;  // "majority", "per_word", "unigram", "bigram", "persistence", "seasonal_naive"
  double val = 0;    // the models' validation metric (Result::val_name), for the validation plot
  Metrics metrics;   // the models' final metrics (same names), for the tables
};

std::vector<Baseline> sentiment_baselines(const ClassificationTask& task);
std::vector<Baseline> tagging_baselines(const TaggingTask& task);
// On the streams the LM trains and validates on (lm_train_stream, lm_val_stream), every validation
// character after the first (the model's stream rows leave out a short tail and each row's first).
std::vector<Baseline> lm_baselines(const data::CharCorpus& corpus, const Config& cfg);
// season: the seasonal-naive lag (12 for monthly data); throws naming --season when it reaches
// back before the series starts.
std::vector<Baseline> forecast_baselines(const ForecastTask& task, int64_t season);

// RMSE of predicting each value in [begin, end) by the value `lag` steps earlier (lag 1:
// persistence), in the original units.
double lag_rmse(const ForecastTask& task, int64_t lag, int64_t begin, int64_t end);
double persistence_rmse(const ForecastTask& task);  // lag 1 over the test part

// Bits per character of ids under add-one smoothed unigram / bigram counts of train (vocab V).
double unigram_bpc(const std::vector<int64_t>& train, const std::vector<int64_t>& eval, int64_t vocab);
double bigram_bpc(const std::vector<int64_t>& train, const std::vector<int64_t>& eval, int64_t vocab);

}  // namespace seqgrad::architecture_comparison
