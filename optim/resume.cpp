// Crash-safe training checkpoints (see resume.h). Checkpoint layout: "param/<name>" (the model),
// "optim/..." (Optimizer::save_state), "rng/<name>" (Rng states), "history/<name>" (f64 series),
// texts "resume/step" and "resume/config".
#include "optim/resume.h"

#include <charconv>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace seqgrad::optim {

namespace {

volatile std::sig_atomic_t g_stop = 0;
struct sigaction g_previous_int, g_previous_term;
int g_handlers_installed = 0;  // Resumables currently holding the handlers

extern "C" void request_stop(int signal) { g_stop = signal; }

void install_handlers() {
  if (g_handlers_installed++ > 0) return;
  g_stop = 0;  // a new run starts unstopped
  struct sigaction sa = {};
  sa.sa_handler = request_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_previous_int);
  sigaction(SIGTERM, &sa, &g_previous_term);
}

void restore_handlers() {
  if (--g_handlers_installed > 0) return;
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

const std::string kHistory = "history/";

// Where two configuration texts first differ, for a one-line message:
// "line 3: checkpoint 'lr = 0.1', this run 'lr = 0.2'".
std::string first_difference(const std::string& saved, const std::string& current) {
  std::istringstream a(saved), b(current);
  for (int line = 1;; ++line) {
    std::string x, y;
    const bool has_x = bool(std::getline(a, x)), has_y = bool(std::getline(b, y));
    if (has_x && has_y && x == y) continue;
    auto show = [](bool has, const std::string& s) { return has ? "'" + s + "'" : std::string("(no line)"); };
    return "line " + std::to_string(line) + ": checkpoint " + show(has_x, x) + ", this run " + show(has_y, y);
  }
}

}  // namespace

Resumable::Resumable(std::string path, nn::Module& model, Optimizer& optimizer,
                     std::vector<std::pair<std::string, Rng*>> rngs, ResumeOptions options)
    : path_(std::move(path)),
      model_(model),
      optimizer_(optimizer),
      rngs_(std::move(rngs)),
      options_(std::move(options)) {
  if (path_.empty()) throw std::invalid_argument("Resumable: empty checkpoint path");
  if (options_.every <= 0)
    throw std::invalid_argument("Resumable: 'every' must be > 0, got " + std::to_string(options_.every));
  for (const auto& [name, rng] : rngs_)
    if (rng == nullptr) throw std::invalid_argument("Resumable: Rng '" + name + "' is null");
  if (options_.handle_stop_signals) {
    install_handlers();
    installed_handlers_ = true;
  }
}

Resumable::~Resumable() {
  if (installed_handlers_) restore_handlers();
}

int Resumable::stop_signal() { return int(g_stop); }

int64_t Resumable::resume() {
  if (!std::filesystem::exists(path_)) return 0;
  const nn::Checkpoint ckpt = nn::load_checkpoint(path_);  // its own errors name the file
  auto fail = [&](const std::string& problem) { return std::runtime_error("resume '" + path_ + "': " + problem); };
  auto text = [&](const std::string& key) -> const std::string& {
    auto it = ckpt.texts.find(key);
    if (it == ckpt.texts.end()) throw fail("not a training checkpoint (no " + key + ")");
    return it->second;
  };
  if (text("resume/config") != options_.config)
    throw fail("written under another configuration (" + first_difference(text("resume/config"), options_.config) +
               "); delete it to start over");
  const std::string& step_text = text("resume/step");
  int64_t step = -1;
  auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
  if (ec != std::errc() || end != step_text.data() + step_text.size() || step < 0)
    throw fail("resume/step '" + step_text + "' is not a step count");
  for (const auto& [key, t] : ckpt.tensors)
    if (key.starts_with(kHistory) && (t.dtype() != DType::f64 || t.rank() != 1))
      throw fail("history tensor '" + key + "' is " + t.describe() + ", expected a f64 vector");
  // Each part validates itself before changing anything, but a later part (the optimiser, say) may
  // fail after an earlier one was loaded: then the state from before is put back, so a failed
  // resume changes nothing.
  const nn::Checkpoint before = capture();
  try {
    restore(ckpt);
  } catch (const std::exception& e) {
    restore(before);
    throw fail(e.what());
  }
  histories_.clear();
  for (const auto& [key, t] : ckpt.tensors) {
    if (!key.starts_with(kHistory)) continue;
    const double* p = t.data<double>();
    histories_[key.substr(kHistory.size())].assign(p, p + t.numel());
  }
  return step;
}

bool Resumable::after_step(int64_t steps_done) {
  const bool stop = stop_requested();
  if (stop || steps_done % options_.every == 0) save(steps_done);
  return !stop;
}

nn::Checkpoint Resumable::capture() const {
  nn::Checkpoint ckpt;
  nn::put_module(ckpt, model_);
  optimizer_.save_state(ckpt);
  for (const auto& [name, rng] : rngs_) nn::put_rng(ckpt, "rng/" + name, *rng);
  return ckpt;
}

void Resumable::restore(const nn::Checkpoint& ckpt) {
  nn::get_module(ckpt, model_);
  optimizer_.load_state(ckpt);
  for (auto& [name, rng] : rngs_) nn::get_rng(ckpt, "rng/" + name, *rng);
}

void Resumable::save(int64_t steps_done) {
  nn::Checkpoint ckpt = capture();
  for (const auto& [name, series] : histories_)
    ckpt.tensors[kHistory + name] = Tensor::from({int64_t(series.size())}, series, DType::f64);
  ckpt.texts["resume/step"] = std::to_string(steps_done);
  ckpt.texts["resume/config"] = options_.config;
  nn::save_checkpoint(path_, ckpt);
}

}  // namespace seqgrad::optim
