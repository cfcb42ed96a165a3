// Experiment 2 (issue #5): vanilla RNN vs LSTM vs GRU vs BiLSTM on four real tasks, the same
// embedding and hidden sizes for every cell. Pure computations returning plain structs (no files,
// no printing), so the tests call them directly; study.h runs them into run folders, verdicts.h
// judges the claims, baselines.h gives each task's reference points, fit.h is the training loop.
//   sentiment (many-to-one):  Embedding -> recurrent (padded, with lengths) -> final h -> Linear -> CE
//   tagging   (many-to-many): Embedding -> recurrent -> Linear per step -> CE (ignore_index on padding)
//   char LM:                  Embedding -> recurrent -> Linear(V), truncated BPTT, carried state detached
//   forecast:                 window of past values -> recurrent -> final h -> Linear(1), MSE, on
//                             each window relative to its last value (see ForecastTask)
// Each task: encode the data once (encode_*), then train_* once per (cell, seed) — and evaluate_*
// re-tests saved parameters without training (--eval-only). Everything
// random comes from Rngs seeded by cfg.seed, so the same seed gives the same bits at any thread
// count; only the per-epoch seconds (Epoch::seconds) are wall-clock measurements.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"
#include "experiments/common/cells.h"
#include "experiments/common/claims.h"
#include "experiments/data/data.h"
#include "nn/io/checkpoint.h"

namespace seqgrad::architecture_comparison {

namespace data = seqgrad::experiments::data;

// The cells (experiments/common/cells.h); bilstm = nn::Recurrent bidirectional over Lstm.
using experiments::cell_name;
using experiments::CellKind;
using experiments::parse_cell;

inline constexpr int64_t kEvalBatch = 128;                    // evaluation batch (forward only)
using Metrics = std::vector<std::pair<std::string, double>>;  // e.g. {{"test_accuracy", 0.81}}
using NamedTensors = std::map<std::string, Tensor>;           // parameters by name

struct Config {
  int64_t embed = 32;   // embedding size (sentiment, tagging, char LM)
  int64_t hidden = 64;  // hidden units per direction
  int64_t batch = 32;
  int64_t epochs = 3;
  double lr = 2e-3;   // Adam
  double clip = 1.0;  // clip_grad_norm max norm (0 = off)
  double forget_bias = 1.0;
  int64_t max_train = 0;       // sentiment/tagging: at most this many training sentences (0 = all)
  int64_t max_eval = 0;        // sentiment/tagging: at most this many validation and test sentences (0 = all)
  int64_t min_count = 2;       // vocabulary: rarer training words become <unk> (so <unk> is trained)
  int64_t lm_train_chars = 0;  // char LM: the first N training characters (0 = all)
  int64_t lm_val_chars = 0;    // char LM: the first N validation characters (0 = all)
  int64_t bptt = 50;           // char LM: truncated-BPTT window
  int64_t window = 24;         // forecast: months of history per prediction
  uint64_t seed = 1;
  std::function<void(int64_t epoch, double train_loss, double val_metric)> on_epoch = {};
};

struct Epoch {
  double train_loss = 0;   // mean training loss over the epoch (per sequence / token / window)
  double val_metric = 0;   // the task's validation metric (see Result::val_name)
  double seconds = 0;      // wall-clock training time of the epoch (not evaluation): NOT deterministic
  double cpu_seconds = 0;  // process CPU time of the same (all threads; robust to other processes' load)
};

struct Result {
  CellKind cell = CellKind::lstm;
  uint64_t seed = 0;
  int64_t num_parameters = 0;        // the whole model (embedding, recurrent, head)
  int64_t recurrent_parameters = 0;  // the nn::Recurrent only
  std::string val_name;              // "val_accuracy", "val_token_accuracy", "val_bpc", "val_rmse"
  bool higher_is_better = true;      // for val_name (and the test metrics)
  std::vector<Epoch> epochs;
  int64_t best_epoch = 0;  // 0-based epoch with the best validation metric (model selected there)
  // Final metrics of the selected model, e.g. {"test_accuracy", 0.81}; deterministic.
  Metrics metrics;
  NamedTensors parameters;                       // the selected model's parameters by name (for checkpoints)
  double metric(const std::string& name) const;  // throws naming the metric when absent
  double seconds_per_epoch() const;              // mean of Epoch::seconds
  double cpu_seconds_per_epoch() const;          // mean of Epoch::cpu_seconds
};

// A Result as a unit checkpoint (experiments::UnitStore) and back, bit for bit: the parameters as
// "param/<name>" tensors, the epochs as an (E, 4) float64 tensor, everything else as texts. Reading
// throws naming `what` when an entry is missing or malformed.
nn::Checkpoint to_checkpoint(const Result& r);
Result result_from(const nn::Checkpoint& ckpt, const std::string& what);

// ---- sentiment (many-to-one) ----------------------------------------------------------------------

struct ClassificationSplit {
  std::vector<std::vector<int64_t>> x;  // token ids, each sequence non-empty
  std::vector<int64_t> y;
};
struct ClassificationTask {
  int64_t vocab_size = 0, classes = 0;
  ClassificationSplit train, val, test;
};
// data::tokenize each text, vocabulary (with <pad>/<unk>, min_count) from the kept training
// sentences; caps (max_train, max_eval) keep evenly spaced items. A text without tokens becomes <unk>.
ClassificationTask encode_classification(const data::ClassificationData& in, const Config& cfg);
// Metrics: test_accuracy (model of the epoch with the best validation accuracy).
Result train_sentiment(const ClassificationTask& task, CellKind cell, const Config& cfg);
// The same test metrics of saved parameters (Result::parameters), without training.
Metrics evaluate_sentiment(const ClassificationTask& task, CellKind cell, const Config& cfg,
                           const NamedTensors& params);

// ---- POS tagging (many-to-many) ----------------------------------------------------------------

struct TaggingSplit {
  std::vector<std::vector<int64_t>> x, y;  // word ids and tag ids, same lengths
};
struct TaggingTask {
  int64_t vocab_size = 0;
  std::vector<std::string> tagset;
  TaggingSplit train, val, test;
};
// Words lowercased (ASCII), vocabulary from the kept training sentences; tags index data.tagset.
TaggingTask encode_tagging(const data::TaggingData& in, const Config& cfg);
// Metrics: test_token_accuracy, test_macro_f1 (over the tags, see macro_f1).
Result train_tagging(const TaggingTask& task, CellKind cell, const Config& cfg);
Metrics evaluate_tagging(const TaggingTask& task, CellKind cell, const Config& cfg, const NamedTensors& params);

// Macro-F1: the mean over classes of F1_c = 2·TP_c / (2·TP_c + FP_c + FN_c), over the classes
// that occur in gold or predicted (as scikit-learn's f1_score(average="macro") with its default
// labels). Throws on different lengths, no items, or a class outside 0..classes−1.
double macro_f1(std::span<const int64_t> gold, std::span<const int64_t> predicted, int64_t classes);

// ---- character-level LM -------------------------------------------------------------------------

// corpus.train / corpus.val capped to cfg.lm_train_chars / lm_val_chars (the LM's training and
// validation streams, which its baselines use too).
std::vector<int64_t> lm_train_stream(const data::CharCorpus& corpus, const Config& cfg);
std::vector<int64_t> lm_val_stream(const data::CharCorpus& corpus, const Config& cfg);
// Caps corpus.train / corpus.val to cfg.lm_train_chars / lm_val_chars. Trains over
// data::stream_batches(train, batch) windows of cfg.bptt steps (state carried detached between
// windows, reset to zeros each epoch); validation runs the same way (batch rows, carried state).
// val_metric and the metric val_bpc: mean cross-entropy per character / ln 2. BiLSTM throws.
Result train_char_lm(const data::CharCorpus& corpus, CellKind cell, const Config& cfg);
Metrics evaluate_char_lm(const data::CharCorpus& corpus, CellKind cell, const Config& cfg, const NamedTensors& params);

// ---- forecasting ---------------------------------------------------------------------------------

// The three splits back to back; every value from index `window` on is a target predicted from the
// `window` values before it (taken across split borders, so every val and test value is predicted,
// the first ones from the previous split's tail).
// Normalisation, per window, as a forecaster would: the model sees each window relative to its LAST
// value, (x_k − x_last) / scale, and predicts the change (y − x_last) / scale, where scale is the
// standard deviation of the one-step changes of the training part. A trending series (co2,
// AirPassengers) then never leaves the range the model was trained on, and predicting a change of 0
// is exactly the persistence baseline, on the same targets. RMSE is in the original units.
struct ForecastTask {
  double scale = 1;            // std of the training part's one-step changes (1 if constant)
  std::vector<double> values;  // raw, train | val | test
  int64_t val_begin = 0, test_begin = 0, window = 0;
};
// `source` names the data (its file) in errors, which also name --window.
ForecastTask encode_forecast(const data::ForecastData& in, int64_t window, const std::string& source = "forecast");
// Metrics: test_rmse (original units, the epoch with the best val_rmse). BiLSTM throws.
Result train_forecast(const ForecastTask& task, CellKind cell, const Config& cfg);
Metrics evaluate_forecast(const ForecastTask& task, CellKind cell, const Config& cfg, const NamedTensors& params);
// Target positions [begin, end) of the values (train: [window, val_begin), ...).
std::vector<int64_t> positions(int64_t begin, int64_t end);

// ---- statistics ----------------------------------------------------------------------------------

using experiments::mean_std;
using experiments::MeanStd;

}  // namespace seqgrad::architecture_comparison
