// Demo: an Elman RNN learns the adding problem (tasks/tasks.h), trained with SGD + momentum
// and gradient clipping, printing its loss curve. Predicting the mean scores MSE ≈ 0.167.
// Options: --steps N --seq-len T --hidden H --seed S --lr LR, and crash-safe training with
// --checkpoint FILE [--checkpoint-every N]: the run resumes from FILE when it exists (after a crash,
// kill -9 or Ctrl-C) and ends bitwise identical to an uninterrupted run; SIGINT/SIGTERM write a
// checkpoint and exit with 128 + the signal. The last line is a CRC-32 of the final parameters.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/crc.hpp>

#include "tasks/tasks.h"
#include "nn/cells.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "optim/optim.h"

using namespace seqgrad;

namespace {

struct Options {
  int steps = 4000, seq_len = 10, hidden = 32, batch = 32, checkpoint_every = 100;
  uint64_t seed = 1;
  double lr = 0.02;
  std::string checkpoint;  // empty: no checkpoints
  // Everything that shapes the run's trajectory, so a checkpoint is never resumed under another.
  std::string config() const {
    return "steps=" + std::to_string(steps) + " seq_len=" + std::to_string(seq_len) +
           " hidden=" + std::to_string(hidden) + " seed=" + std::to_string(seed) + " lr=" + std::to_string(lr);
  }
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help") {
      std::puts(
          "seqgrad_demo [--steps 4000] [--seq-len 10] [--hidden 32] [--seed 1] [--lr 0.02]\n"
          "             [--checkpoint FILE] [--checkpoint-every 100]");
      std::exit(0);
    }
    const bool known = flag == "--checkpoint" || flag == "--steps" || flag == "--seq-len" || flag == "--hidden" ||
                       flag == "--seed" || flag == "--lr" || flag == "--checkpoint-every";
    if (!known) throw std::invalid_argument("demo: unknown option '" + flag + "' (see --help)");
    if (i + 1 >= argc) throw std::invalid_argument("demo: option " + flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--checkpoint") {
      if (value.empty()) throw std::invalid_argument("demo: --checkpoint needs a file name");
      o.checkpoint = value;
      continue;
    }
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(value, &used);
    } catch (const std::exception&) {}
    if (used != value.size() || !(v > 0))
      throw std::invalid_argument("demo: " + flag + " must be a positive number, got '" + value + "'");
    if (flag == "--steps") o.steps = int(v);
    else if (flag == "--seq-len") o.seq_len = int(v);
    else if (flag == "--hidden") o.hidden = int(v);
    else if (flag == "--seed") o.seed = uint64_t(v);
    else if (flag == "--lr") o.lr = v;
    else o.checkpoint_every = int(v);
  }
  return o;
}

// h_t = tanh(x_t·W_ihᵀ + h_{t−1}·W_hhᵀ + b) over the sequence; the last h predicts the sum.
struct Regressor : nn::Module {
  nn::Recurrent rnn;
  nn::Linear head;
  Regressor(int64_t hidden, Rng& rng) : rnn(nn::cell_factory<nn::Elman>(), 2, hidden, rng), head(hidden, 1, rng) {
    register_module("rnn", rnn);
    register_module("head", head);
  }
  Var loss(Tape& tape, const tasks::Batch& batch, Rng& rng) {
    nn::RecurrentResult r = rnn(tape.constant(batch.x), rng);
    return mse(head(r.final[0].h), tape.constant(batch.target));
  }
};

// A text chart of the loss curve: one row per point, bar length on a log scale.
void print_curve(const std::vector<std::pair<int, double>>& curve) {
  std::puts("\n step   mse       loss curve (log scale, 0.001 .. 1)");
  for (auto [step, loss] : curve) {
    const int width = int(std::lround(50 * (std::log10(std::max(loss, 1e-3)) + 3) / 3));
    std::printf("%5d  %.5f  %s\n", step, loss, std::string(size_t(std::max(width, 0)), '#').c_str());
  }
}

// CRC-32 of every parameter's bytes, in name order: equal digests mean bitwise-equal models.
uint32_t parameter_digest(nn::Module& model) {
  boost::crc_32_type crc;
  for (auto& [name, p] : model.named_parameters())
    crc.process_bytes(p->value.raw(), size_t(p->value.numel()) * (p->value.dtype() == DType::f32 ? 4 : 8));
  return crc.checksum();
}

}  // namespace

int main(int argc, char** argv) try {
  const Options opt = parse(argc, argv);
  Rng rng(opt.seed);
  Regressor model(opt.hidden, rng);
  optim::SGD sgd(model.named_parameters(), {.lr = opt.lr, .momentum = 0.9});
  std::printf("Elman RNN (H=%d) on the adding problem, T=%d, batch %d, %d steps, seed %llu\n", opt.hidden, opt.seq_len,
              opt.batch, opt.steps, static_cast<unsigned long long>(opt.seed));
  std::printf("predicting the mean scores MSE ~ 0.167\n");
  Tape tape;
  std::optional<optim::Resumable> resumable;
  std::vector<double> own_history;
  int first = 0;
  if (!opt.checkpoint.empty()) {
    resumable.emplace(opt.checkpoint, model, sgd, std::vector<std::pair<std::string, Rng*>>{{"data", &rng}},
                      optim::ResumeOptions{.every = opt.checkpoint_every, .config = opt.config()});
    first = int(resumable->resume());
    if (first > 0) std::fprintf(stderr, "demo: resumed from %s at step %d\n", opt.checkpoint.c_str(), first);
  }
  std::vector<double>& losses = resumable ? resumable->history("loss") : own_history;
  for (int step = first; step < opt.steps; ++step) {
    tape.reset();
    sgd.zero_grad();
    Var loss = model.loss(tape, tasks::adding_problem(rng, opt.batch, opt.seq_len), rng);
    tape.backward(loss);
    optim::clip_grad_norm(model.named_parameters(), 1.0);
    sgd.step();
    losses.push_back(loss.item());
    if (resumable && !resumable->after_step(step + 1)) {
      std::fprintf(stderr, "demo: stopped by signal %d after step %d; checkpoint %s\n", optim::Resumable::stop_signal(),
                   step + 1, opt.checkpoint.c_str());
      return 128 + optim::Resumable::stop_signal();
    }
  }
  if (resumable) resumable->save(opt.steps);
  // The curve: mean loss over consecutive windows of `every` steps.
  std::vector<std::pair<int, double>> curve;
  const int every = std::max(1, opt.steps / 30);
  for (int end = every; end <= int(losses.size()); end += every) {
    double sum = 0;
    for (int k = end - every; k < end; ++k) sum += losses[size_t(k)];
    curve.emplace_back(end, sum / every);
  }
  print_curve(curve);
  Rng test_rng(opt.seed + 1000);
  tape.reset();
  const double test = model.loss(tape, tasks::adding_problem(test_rng, 1000, opt.seq_len), test_rng).item();
  std::printf("\nheld-out MSE on 1000 new sequences: %.5f (%s)\n", test,
              test < 0.0167 ? "learned: < 10% of the baseline" : "not learned yet: try more --steps");
  std::printf("final parameters CRC-32: %08x\n", parameter_digest(model));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 2;
}
