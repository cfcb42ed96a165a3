// A part-of-speech tagger: Embedding -> bidirectional LSTM -> one Linear per time step -> a tag per
// word. Sentences are padded into batches; padded steps get the target -100, which cross_entropy
// ignores (ignore_index), so they neither add to the loss nor count in the accuracy.
//   example_bilstm_tagger [--epochs N] [--seed N] [--data FILE] [--limit N]
// Data: FILE of "word/tag word/tag ..." sentence lines, else the Brown corpus in data/brown/ with
// the 12 universal tags (fetch it with `bash scripts/fetch_data.sh`). --limit N trains on the first
// N training sentences only (for a quick run). Prints train loss and validation token accuracy per
// epoch, then one tagged validation sentence.
#include <algorithm>
#include <cctype>
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

constexpr int64_t kEmbed = 64, kHidden = 64, kBatch = 32, kIgnore = -100;

struct Tagger : nn::Module {
  nn::Embedding embed;
  nn::Recurrent lstm;
  nn::Linear head;
  Tagger(int64_t vocab, int64_t tags, Rng& rng)
      : embed(vocab, kEmbed, rng),
        lstm(nn::cell_factory<nn::Lstm>(1.0), kEmbed, kHidden, rng, {.bidirectional = true}),
        head(2 * kHidden, tags, rng) {
    register_module("embed", embed);
    register_module("lstm", lstm);
    register_module("head", head);
  }
  // A padded batch of word ids -> tag logits (B·T, tags), row b·T + t for word t of sentence b.
  Var operator()(Tape& tape, const data::PaddedBatch& b, Rng& rng) {
    Var x = embed(tape, b.ids, {b.batch, b.steps});  // (B, T, E)
    Var h = lstm(x, rng, {}, b.lengths).output;      // (B, T, 2H): [forward | reverse]
    return reshape(head(h), {b.batch * b.steps, -1});
  }
};

std::vector<std::string> lowercase(std::vector<std::string> words) {  // ASCII letters only
  for (auto& w : words)
    std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return words;
}

// Words (lowercased) and tags of sentences as ids.
struct Encoded {
  std::vector<std::vector<int64_t>> words, tags;
};
Encoded encode(const std::vector<data::TaggedSentence>& sentences, const data::Vocabulary& words,
               const data::Vocabulary& tags) {
  Encoded e;
  for (const auto& s : sentences) {
    e.words.push_back(words.encode(lowercase(s.words)));
    e.tags.push_back(tags.encode(s.tags));
  }
  return e;
}

// The most likely tag of every step of a padded batch, row-major (B·T), in eval mode.
std::vector<int64_t> predict(Tagger& model, Tape& tape, const data::PaddedBatch& x, Rng& rng) {
  NoGradGuard no_grad;
  tape.reset();
  Tensor logits = model(tape, x, rng).value();  // (B·T, tags)
  const int64_t C = logits.size(1);
  std::vector<int64_t> out;
  for (const float* row = logits.data<float>(); out.size() < size_t(logits.size(0)); row += C)
    out.push_back(int64_t(std::max_element(row, row + C) - row));
  return out;
}

int main(int argc, char** argv) try {
  int epochs = 3, seed = 1, limit = 0;
  std::string file;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag != "--epochs" && flag != "--seed" && flag != "--data" && flag != "--limit")
      throw std::invalid_argument("unknown flag " + flag + " (use --epochs N, --seed N, --data FILE, --limit N)");
    if (i + 1 == argc) throw std::invalid_argument(flag + ": missing value");
    if (flag == "--data") file = argv[i + 1];
    else (flag == "--epochs" ? epochs : flag == "--seed" ? seed : limit) = parse_positive(flag, argv[i + 1]);
  }
  const data::fs::path standard = data::default_data_dir() / "brown";
  if (file.empty() && !data::fs::exists(standard)) {
    std::fprintf(stderr, "no data: %s is missing; run `bash scripts/fetch_data.sh` or pass --data FILE\n",
                 standard.string().c_str());
    return 2;
  }
  data::TaggingData d = file.empty() ? data::load_brown(data::default_data_dir()) : data::load_tagging_file(file);
  if (limit > 0 && size_t(limit) < d.train.size()) d.train.resize(size_t(limit));
  if (d.train.empty() || d.val.empty())  // the split rule sends sentences 9, 19, ... to validation
    throw std::invalid_argument(file + ": needs at least 9 sentences, so that validation is not empty");

  data::Vocabulary tags = data::Vocabulary::from_tokens(d.tagset, /*specials=*/false);
  std::vector<std::vector<std::string>> train_words;  // the vocabulary comes from training data only
  for (const auto& sentence : d.train) train_words.push_back(lowercase(sentence.words));
  // Words seen once become <unk>, so the <unk> embedding is trained for the unseen words of validation.
  data::Vocabulary words = data::Vocabulary::build(train_words, {.min_count = 2});
  Encoded train = encode(d.train, words, tags), val = encode(d.val, words, tags);
  std::printf("%zu train / %zu validation sentences, %lld words, %lld tags\n", train.words.size(), val.words.size(),
              (long long)words.size(), (long long)tags.size());

  Rng rng(static_cast<uint64_t>(seed));
  Tagger model(words.size(), tags.size(), rng);
  optim::Adam adam(model.named_parameters(), {.lr = 2e-3});
  Tape tape;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    model.train();
    double loss_sum = 0;
    auto batches = data::make_batches(int64_t(train.words.size()), kBatch, &rng);
    for (const auto& idx : batches) {
      tape.reset();
      adam.zero_grad();
      data::PaddedBatch x = data::pad_batch(train.words, idx), y = data::pad_batch(train.tags, idx, kIgnore);
      Var loss = cross_entropy(model(tape, x, rng), y.ids, kIgnore);
      tape.backward(loss);
      optim::clip_grad_norm(model.named_parameters(), 5.0);
      adam.step();
      loss_sum += loss.item();
    }
    model.eval();
    int64_t correct = 0, total = 0;
    for (const auto& idx : data::make_batches(int64_t(val.words.size()), 256)) {
      data::PaddedBatch y = data::pad_batch(val.tags, idx, kIgnore);
      std::vector<int64_t> tagged = predict(model, tape, data::pad_batch(val.words, idx), rng);
      for (size_t r = 0; r < y.ids.size(); ++r) {
        correct += y.ids[r] != kIgnore && tagged[r] == y.ids[r];
        total += y.ids[r] != kIgnore;
      }
    }
    const double train_loss = loss_sum / double(batches.size());
    if (!std::isfinite(train_loss)) throw std::runtime_error("epoch " + std::to_string(epoch) + ": loss not finite");
    std::printf("epoch %d  train loss %.4f  validation token accuracy %.4f\n", epoch, train_loss,
                double(correct) / double(total));
    std::fflush(stdout);
  }
  const int64_t first[] = {0};  // one validation sentence, tagged
  std::vector<int64_t> tagged = predict(model, tape, data::pad_batch(val.words, first), rng);
  for (size_t t = 0; t < d.val[0].words.size(); ++t)
    std::printf("%s/%s ", d.val[0].words[t].c_str(), tags.token(tagged[t]).c_str());
  std::printf("\n");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
