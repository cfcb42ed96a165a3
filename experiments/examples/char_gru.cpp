// A character-level language model: Embedding -> GRU (nn::Recurrent of nn::Gru) -> Linear over the
// characters, trained by truncated BPTT: the text is cut into 32 parallel streams
// (data::stream_batches) read in windows of 64 characters; the state is carried from one window to
// the next as a constant, so gradients stop at window boundaries. Afterwards it samples text.
//   example_char_gru [--epochs N] [--seed N] [--data FILE] [--limit N] [--temperature T] [--sample N]
// Data: any UTF-8 text FILE (90% train, 10% validation), else Moby Dick in data/moby_dick/ (fetch it
// with `bash scripts/fetch_data.sh`). --limit N trains on the first N training characters only (and
// validates on the first N/9). Prints train and validation bits per character per epoch, then N
// sampled characters (default 300) at temperature T (default 0.8).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numbers>
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

constexpr int64_t kEmbed = 32, kHidden = 256, kBatch = 32, kSteps = 64;

struct CharModel : nn::Module {
  nn::Embedding embed;
  nn::Recurrent gru;
  nn::Linear head;
  CharModel(int64_t vocab, Rng& rng)
      : embed(vocab, kEmbed, rng), gru(nn::cell_factory<nn::Gru>(), kEmbed, kHidden, rng), head(kHidden, vocab, rng) {
    register_module("embed", embed);
    register_module("gru", gru);
    register_module("head", head);
  }
  // ids (B, T) from the carried state -> logits (B·T, V); `carried` becomes the new final state.
  Var operator()(Tape& tape, const std::vector<int64_t>& ids, int64_t B, std::vector<nn::StateValues>& carried,
                 Rng& rng) {
    std::vector<nn::State> initial;
    for (const auto& v : carried) initial.push_back(nn::constants_of(tape, v));  // no gradient into the past
    nn::RecurrentResult r = gru(embed(tape, ids, {B, int64_t(ids.size()) / B}), rng, initial);
    carried.clear();
    for (const auto& s : r.final) carried.push_back(nn::values_of(s));
    return reshape(head(r.output), {int64_t(ids.size()), -1});
  }
};

// Mean bits per character of `ids` read as kBatch streams, in eval mode.
double bits_per_char(CharModel& model, Tape& tape, const std::vector<int64_t>& ids, Rng& rng) {
  NoGradGuard no_grad;
  model.eval();
  data::StreamBatches stream = data::stream_batches(ids, kBatch);
  std::vector<nn::StateValues> carried;  // empty: start from zeros
  std::vector<int64_t> x, y;
  double nats = 0;
  for (int64_t w = 0; w < stream.windows(kSteps); ++w) {
    stream.window(w, kSteps, x, y);
    tape.reset();
    nats += cross_entropy(model(tape, x, kBatch, carried, rng), y, -100, Reduction::sum).item();
  }
  model.train();
  return nats / double(kBatch * (stream.row_length - 1)) / std::numbers::ln2;
}

// n characters drawn one at a time from softmax(logits / temperature), starting from `first`.
std::string sample(CharModel& model, const data::Vocabulary& vocab, int64_t first, int n, double temperature,
                   Rng& rng) {
  NoGradGuard no_grad;
  model.eval();
  Tape tape;
  std::vector<nn::StateValues> carried;  // empty: start from zeros
  std::vector<int64_t> id = {first};
  std::string text = vocab.token(first);
  for (int i = 0; i < n; ++i) {
    tape.reset();
    std::vector<double> p = softmax(model(tape, id, 1, carried, rng) * (1 / temperature)).value().to_vector();
    double u = rng.uniform(), cumulative = 0;
    id[0] = int64_t(p.size()) - 1;
    for (size_t c = 0; c < p.size(); ++c)
      if ((cumulative += p[c]) > u) {
        id[0] = int64_t(c);
        break;
      }
    if (id[0] >= 2) text += vocab.token(id[0]);  // skip <pad> and <unk>
  }
  return text;
}

int main(int argc, char** argv) try {
  int epochs = 3, seed = 1, limit = 0, sample_chars = 300;
  double temperature = 0.8;
  std::string file;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 == argc) throw std::invalid_argument(flag + ": missing value");
    if (flag == "--data") file = argv[i + 1];
    else if (flag == "--epochs") epochs = parse_positive(flag, argv[i + 1]);
    else if (flag == "--seed") seed = parse_positive(flag, argv[i + 1]);
    else if (flag == "--limit") limit = parse_positive(flag, argv[i + 1]);
    else if (flag == "--sample") sample_chars = parse_positive(flag, argv[i + 1]);
    else if (flag == "--temperature") {
      char* end = nullptr;
      temperature = std::strtod(argv[i + 1], &end);
      if (*end != '\0' || !(temperature > 0 && temperature <= 10))
        throw std::invalid_argument(flag + ": expected a number in (0, 10], got '" + argv[i + 1] + "'");
    } else
      throw std::invalid_argument("unknown flag " + flag +
                                  " (use --epochs N, --seed N, --data FILE, --limit N, --temperature T, --sample N)");
  }
  const data::fs::path standard = data::default_data_dir() / "moby_dick" / "moby_dick.txt";
  if (file.empty() && !data::fs::exists(standard)) {
    std::fprintf(stderr, "no data: %s is missing; run `bash scripts/fetch_data.sh` or pass --data FILE\n",
                 standard.string().c_str());
    return 2;
  }
  data::CharCorpus corpus = file.empty() ? data::load_moby_dick(data::default_data_dir()) : data::load_text(file);
  if (limit > 0 && size_t(limit) < corpus.train.size()) corpus.train.resize(size_t(limit));
  const size_t val_keep = size_t(std::max<int64_t>(limit / 9, 2 * kBatch));
  if (limit > 0 && val_keep < corpus.val.size()) corpus.val.resize(val_keep);
  std::printf("%zu train / %zu validation characters, %lld distinct\n", corpus.train.size(), corpus.val.size(),
              (long long)corpus.vocab.size());

  Rng rng(static_cast<uint64_t>(seed));
  CharModel model(corpus.vocab.size(), rng);
  optim::Adam adam(model.named_parameters(), {.lr = 3e-3});
  Tape tape;
  data::StreamBatches stream = data::stream_batches(corpus.train, kBatch);
  std::vector<int64_t> x, y;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    std::vector<nn::StateValues> carried;  // empty: zeros, at the start of every epoch
    double nats = 0;
    for (int64_t w = 0; w < stream.windows(kSteps); ++w) {
      stream.window(w, kSteps, x, y);
      tape.reset();
      adam.zero_grad();
      Var loss = cross_entropy(model(tape, x, kBatch, carried, rng), y);
      tape.backward(loss);
      optim::clip_grad_norm(model.named_parameters(), 5.0);
      adam.step();
      nats += loss.item() * double(y.size());
    }
    const double train_bpc = nats / double(kBatch * (stream.row_length - 1)) / std::numbers::ln2;
    const double val_bpc = bits_per_char(model, tape, corpus.val, rng);
    if (!std::isfinite(train_bpc) || !std::isfinite(val_bpc))
      throw std::runtime_error("epoch " + std::to_string(epoch) + ": bits per character not finite");
    std::printf("epoch %d  train %.3f bits/char  validation %.3f bits/char\n", epoch, train_bpc, val_bpc);
    std::fflush(stdout);
  }
  std::printf("\nsample (temperature %.2f):\n%s\n", temperature,
              sample(model, corpus.vocab, corpus.train[0], sample_chars, temperature, rng).c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
