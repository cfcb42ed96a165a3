// A stacked (2-layer) LSTM that forecasts a noisy sine wave: a window of the past 24 values -> the
// next value, trained with MSE. The series is generated here (period 40 steps, noise σ = 0.05); the
// first 2,000 steps train, the next 500 (never seen in training) validate.
//   example_sine_forecaster [--steps N] [--seed N]
// Prints train/validation MSE every 100 steps, a few validation predictions next to the truth, and
// the MSE of always predicting the training mean. Exits 1 unless the model beats that baseline by at
// least 10x (or when a loss is not finite), so its CTest run is a real check.
#include <cmath>
#include <cstdio>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/examples/example_flags.h"
#include "nn/cells.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "optim/optim.h"

using namespace seqgrad;

constexpr int64_t kWindow = 24, kBatch = 32;
constexpr double kNoise = 0.05;  // σ of the noise; no model can beat MSE σ² on average

struct Model : nn::Module {
  nn::Recurrent lstm;  // 2 layers, hidden 32
  nn::Linear head;     // last layer's final h -> next value
  explicit Model(Rng& rng) : lstm(nn::cell_factory<nn::Lstm>(1.0), 1, 32, rng, {.num_layers = 2}), head(32, 1, rng) {
    register_module("lstm", lstm);
    register_module("head", head);
  }
  Var operator()(const Var& x, Rng& rng) { return head(lstm(x, rng).final.back().h); }  // (B, T, 1) -> (B, 1)
};

// Windows starting at `starts`: x (B, kWindow, 1) and the value that follows each, y (B, 1).
std::pair<Tensor, Tensor> windows(const std::vector<double>& series, const std::vector<int64_t>& starts) {
  std::vector<double> x, y;
  for (int64_t s : starts) {
    x.insert(x.end(), series.begin() + s, series.begin() + s + kWindow);
    y.push_back(series[size_t(s + kWindow)]);
  }
  const int64_t B = int64_t(starts.size());
  return {Tensor::from({B, kWindow, 1}, x), Tensor::from({B, 1}, y)};
}

int main(int argc, char** argv) try {
  int steps = 1500, seed = 1;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag != "--steps" && flag != "--seed")
      throw std::invalid_argument("unknown flag " + flag + " (use --steps N, --seed N)");
    if (i + 1 == argc) throw std::invalid_argument(flag + ": missing value");
    (flag == "--steps" ? steps : seed) = parse_positive(flag, argv[i + 1]);
  }
  Rng rng(static_cast<uint64_t>(seed));
  std::vector<double> series(2500);
  for (size_t t = 0; t < series.size(); ++t)
    series[t] = std::sin(2 * std::numbers::pi * double(t) / 40) + rng.normal(0, kNoise);

  // Validation: every window lying entirely in steps 2000..2499.
  std::vector<int64_t> val_starts;
  for (int64_t s = 2000; s + kWindow < 2500; ++s) val_starts.push_back(s);
  auto [val_x, val_y] = windows(series, val_starts);
  double mean = 0, baseline = 0;
  for (int t = 0; t < 2000; ++t) mean += series[size_t(t)] / 2000;
  for (double v : val_y.to_vector()) baseline += (v - mean) * (v - mean) / double(val_y.numel());

  Model model(rng);
  optim::Adam adam(model.named_parameters(), {.lr = 3e-3});
  Tape tape;
  double val_mse = 0;
  for (int step = 1; step <= steps; ++step) {
    std::vector<int64_t> starts;  // random training windows (inside steps 0..1999)
    for (int64_t b = 0; b < kBatch; ++b) starts.push_back(int64_t(rng.below(2000 - kWindow)));
    auto [x, y] = windows(series, starts);
    tape.reset();
    adam.zero_grad();
    Var loss = mse(model(tape.constant(x), rng), tape.constant(y));
    tape.backward(loss);
    optim::clip_grad_norm(model.named_parameters(), 1.0);
    adam.step();
    if (!std::isfinite(loss.item())) throw std::runtime_error("step " + std::to_string(step) + ": loss not finite");
    if (step % 100 == 0 || step == steps) {
      model.eval();
      NoGradGuard no_grad;
      val_mse = mse(model(tape.constant(val_x), rng), tape.constant(val_y)).item();
      model.train();
      std::printf("step %5d  train MSE %.5f  validation MSE %.5f\n", step, loss.item(), val_mse);
    }
  }

  model.eval();
  NoGradGuard no_grad;
  std::vector<double> pred = model(tape.constant(val_x), rng).value().to_vector(), truth = val_y.to_vector();
  std::printf("\n  t     truth   predicted\n");
  for (size_t i = 0; i < 8; ++i)
    std::printf("%4lld  %7.3f  %7.3f\n", (long long)(val_starts[i] + kWindow), truth[i], pred[i]);
  std::printf("\nvalidation MSE %.5f vs %.5f predicting the training mean (%.0fx better; the noise alone is %.4f)\n",
              val_mse, baseline, baseline / val_mse, kNoise * kNoise);
  return std::isfinite(val_mse) && val_mse * 10 < baseline ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
