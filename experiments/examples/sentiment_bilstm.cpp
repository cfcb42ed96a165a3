// A sentiment classifier: Embedding (dropout 0.3) -> bidirectional 2-layer LSTM (dropout 0.3 between
// the layers) -> the final states of both directions of the top layer, concatenated -> Linear -> one
// logit per class. Sentences (cut at 60 words) are padded into variable-length batches; `lengths`
// make each direction start and stop at a sentence's real words, so padding never reaches the head.
//   example_sentiment_bilstm [--epochs N] [--seed N] [--data FILE]
// Data: FILE of "label<TAB>text" lines, else the UCI sentiment sentences in data/sentiment/ (fetch
// them with `bash scripts/fetch_data.sh`). Prints train loss and validation accuracy per epoch.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/data/data.h"
#include "experiments/examples/example_flags.h"
#include "nn/cells.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "optim/optim.h"

using namespace seqgrad;
namespace data = seqgrad::experiments::data;

constexpr int64_t kEmbed = 64, kHidden = 64, kBatch = 32, kMaxWords = 60;

struct Classifier : nn::Module {
  nn::Embedding embed;
  nn::Recurrent lstm;
  nn::Linear head;
  Classifier(int64_t vocab, int64_t classes, Rng& rng)
      : embed(vocab, kEmbed, rng),
        lstm(nn::cell_factory<nn::Lstm>(1.0), kEmbed, kHidden, rng,
             {.num_layers = 2, .bidirectional = true, .dropout = 0.3}),
        head(2 * kHidden, classes, rng) {
    register_module("embed", embed);
    register_module("lstm", lstm);
    register_module("head", head);
  }
  // A padded batch -> logits (B, classes). final[] is in h_n order: [l0, l0_reverse, l1, l1_reverse].
  Var operator()(Tape& tape, const data::PaddedBatch& b, Rng& rng) {
    Var x = dropout(embed(tape, b.ids, {b.batch, b.steps}), 0.3, rng, training());  // (B, T, E)
    nn::RecurrentResult r = lstm(x, rng, {}, b.lengths);
    Var both[] = {r.final[2].h, r.final[3].h};  // (B, H) forward, (B, H) reverse
    return head(concat(both, 1));               // (B, 2H) -> (B, C)
  }
};

// Sentences as word ids (an empty one becomes a single <unk>) and their labels.
struct Encoded {
  std::vector<std::vector<int64_t>> ids;
  std::vector<int64_t> labels;
};
Encoded encode(const std::vector<data::TextExample>& examples, const data::Vocabulary& vocab) {
  Encoded e;
  for (const auto& x : examples) {
    std::vector<std::string> words = data::tokenize(x.text);
    e.ids.push_back(words.empty() ? std::vector<int64_t>{data::Vocabulary::kUnk} : vocab.encode(words));
    e.labels.push_back(x.label);
  }
  return e;
}

// The index of the largest entry of row `row` of logits (N, C).
int64_t argmax(const Tensor& logits, int64_t row) {
  const int64_t C = logits.size(1);
  const float* p = logits.data<float>() + row * C;
  return int64_t(std::max_element(p, p + C) - p);
}

int main(int argc, char** argv) try {
  int epochs = 6, seed = 1;
  std::string file;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag != "--epochs" && flag != "--seed" && flag != "--data")
      throw std::invalid_argument("unknown flag " + flag + " (use --epochs N, --seed N, --data FILE)");
    if (i + 1 == argc) throw std::invalid_argument(flag + ": missing value");
    if (flag == "--data") file = argv[i + 1];
    else (flag == "--epochs" ? epochs : seed) = parse_positive(flag, argv[i + 1]);
  }
  const data::fs::path standard = data::default_data_dir() / "sentiment";
  if (file.empty() && !data::fs::exists(standard)) {
    std::fprintf(stderr, "no data: %s is missing; run `bash scripts/fetch_data.sh` or pass --data FILE\n",
                 standard.string().c_str());
    return 2;
  }
  data::ClassificationData d =
      file.empty() ? data::load_sentiment(data::default_data_dir()) : data::load_classification_tsv(file);
  if (d.train.empty() || d.val.empty())  // the split rule sends records 9, 19, ... to validation
    throw std::invalid_argument(file + ": needs at least 9 records, so that validation is not empty");

  std::vector<std::vector<std::string>> train_words;  // the vocabulary comes from training data only
  for (const auto& x : d.train) train_words.push_back(data::tokenize(x.text));
  data::Vocabulary vocab = data::Vocabulary::build(train_words);
  Encoded train = encode(d.train, vocab), val = encode(d.val, vocab);
  std::printf("%zu train / %zu validation sentences, %lld words\n", d.train.size(), d.val.size(),
              (long long)vocab.size());

  Rng rng(static_cast<uint64_t>(seed));
  Classifier model(vocab.size(), int64_t(d.classes.size()), rng);
  optim::Adam adam(model.named_parameters(), {.lr = 2e-3});
  Tape tape;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    model.train();
    double loss_sum = 0;
    auto batches = data::make_batches(int64_t(train.ids.size()), kBatch, &rng);  // shuffled
    for (const auto& idx : batches) {
      std::vector<int64_t> labels;
      for (int64_t i : idx) labels.push_back(train.labels[size_t(i)]);
      tape.reset();
      adam.zero_grad();
      Var logits = model(tape, data::pad_batch(train.ids, idx, data::Vocabulary::kPad, kMaxWords), rng);
      Var loss = cross_entropy(logits, labels);
      tape.backward(loss);
      optim::clip_grad_norm(model.named_parameters(), 5.0);
      adam.step();
      loss_sum += loss.item();
    }
    model.eval();
    NoGradGuard no_grad;
    int64_t correct = 0;
    for (const auto& idx : data::make_batches(int64_t(val.ids.size()), 256)) {
      tape.reset();
      Tensor logits = model(tape, data::pad_batch(val.ids, idx, data::Vocabulary::kPad, kMaxWords), rng).value();
      for (size_t b = 0; b < idx.size(); ++b) correct += argmax(logits, int64_t(b)) == val.labels[size_t(idx[b])];
    }
    const double train_loss = loss_sum / double(batches.size());
    if (!std::isfinite(train_loss)) throw std::runtime_error("epoch " + std::to_string(epoch) + ": loss not finite");
    std::printf("epoch %d  train loss %.4f  validation accuracy %.3f\n", epoch, train_loss,
                double(correct) / double(val.ids.size()));
    std::fflush(stdout);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
