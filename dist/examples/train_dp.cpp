// Data-parallel training of a small LSTM on the adding problem, crash-safe:
//
//   mpirun -np 2 ./build/dist/train_dp --steps 200 --micro-batches 2 --checkpoint run.ckpt
//
// Every rank runs --micro-batches micro-batches of --batch sequences per step; the global step is
// the mean over all ranks' micro-batches in a fixed order (see dist/data_parallel.h), so the final
// parameters (digest printed at the end) depend only on ranks × micro-batches, not on the split.
// With --checkpoint, rank 0 saves every --every steps and a restart resumes, at any rank count.
// --abort-rank R --abort-at-step K make rank R kill itself with SIGKILL at step K (for the crash test).
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include "dist/communicator.h"
#include "dist/data_parallel.h"
#include "dist/examples/adding_task.h"
#include "dist/resume.h"
#include "optim/adam.h"

using namespace seqgrad;

namespace {

struct Flags {
  int64_t steps = 200, micro_batches = 1, batch = 16, length = 20, hidden = 32, every = 50, seed = 1;
  int64_t abort_rank = -1, abort_at_step = -1;
  double lr = 1e-2, max_grad_norm = 1.0;
  std::string checkpoint, combine = "ordered";
};

// Integer value of flag `name`; throws naming it.
int64_t to_int(const std::string& name, const std::string& text) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty()) throw std::invalid_argument(name + ": '" + text + "' is not an integer");
  return v;
}

double to_double(const std::string& name, const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty()) throw std::invalid_argument(name + ": '" + text + "' is not a number");
  return v;
}

// "--name value" pairs into Flags; unknown names and missing values throw.
Flags parse(int argc, char** argv) {
  Flags f;
  std::map<std::string, int64_t*> ints = {{"--steps", &f.steps},
                                          {"--micro-batches", &f.micro_batches},
                                          {"--batch", &f.batch},
                                          {"--length", &f.length},
                                          {"--hidden", &f.hidden},
                                          {"--every", &f.every},
                                          {"--seed", &f.seed},
                                          {"--abort-rank", &f.abort_rank},
                                          {"--abort-at-step", &f.abort_at_step}};
  std::map<std::string, double*> doubles = {{"--lr", &f.lr}, {"--max-grad-norm", &f.max_grad_norm}};
  std::map<std::string, std::string*> texts = {{"--checkpoint", &f.checkpoint}, {"--combine", &f.combine}};
  for (int i = 1; i < argc; i += 2) {
    const std::string name = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(name + ": missing value");
    const std::string value = argv[i + 1];
    if (ints.count(name)) *ints[name] = to_int(name, value);
    else if (doubles.count(name)) *doubles[name] = to_double(name, value);
    else if (texts.count(name)) *texts[name] = value;
    else throw std::invalid_argument(name + ": unknown option");
  }
  if (f.combine != "ordered" && f.combine != "allreduce")
    throw std::invalid_argument("--combine: '" + f.combine + "' is neither 'ordered' nor 'allreduce'");
  return f;
}

// Everything that must match across ranks and across a resume: N = ranks × micro-batches, not the split.
std::string config_text(const Flags& f, int64_t global_micro_batches) {
  return "global_micro_batches " + std::to_string(global_micro_batches) + "\nbatch " + std::to_string(f.batch) +
         "\nlength " + std::to_string(f.length) + "\nhidden " + std::to_string(f.hidden) + "\nseed " +
         std::to_string(f.seed) + "\nlr " + optim::double_to_hex(f.lr) + "\nmax_grad_norm " +
         optim::double_to_hex(f.max_grad_norm) + "\ncombine " + f.combine;
}

int train(dist::Communicator& world, const Flags& f) {
  Rng init(uint64_t(f.seed));
  dist::example::AddingModel model(f.hidden, init);
  optim::Adam adam(model.named_parameters(), {.lr = f.lr});
  const std::string config = config_text(f, f.micro_batches * world.size());
  dist::DataParallel dp(world, model, adam,
                        {.micro_batches = f.micro_batches,
                         .combine = f.combine == "ordered" ? dist::Combine::ordered : dist::Combine::allreduce,
                         .max_grad_norm = f.max_grad_norm,
                         .digest_every = 10,
                         .config = config});
  std::optional<dist::Resumable> run;
  if (!f.checkpoint.empty())
    run.emplace(world, f.checkpoint, model, adam, optim::ResumeOptions{.every = f.every, .config = config});
  const int64_t start = run ? run->resume() : 0;
  if (world.is_root() && start > 0) std::cout << "resumed from '" << f.checkpoint << "' at step " << start << "\n";
  Tape tape;
  Rng no_masks(0);
  auto micro_batch = [&](int64_t step, int64_t i) {
    tape.reset();
    Rng data(dist::micro_batch_seed(uint64_t(f.seed), step, i));
    Var loss = model.loss(tape, tasks::adding_problem(data, f.batch, f.length), no_masks);
    tape.backward(loss);
    return loss.item();
  };
  for (int64_t step = start; step < f.steps; ++step) {
    if (step == f.abort_at_step && world.rank() == f.abort_rank) std::raise(SIGKILL);
    const double loss = dp.step(micro_batch);
    if (run) run->history("loss").push_back(loss);
    if (world.is_root() && (step + 1) % 10 == 0) std::cout << "step " << step + 1 << " loss " << loss << "\n";
    if (run && !run->after_step(step + 1)) return 128 + optim::Resumable::stop_signal();
  }
  if (run) run->save(f.steps);
  dp.check_digests();
  if (world.is_root())
    std::cout << "ranks " << world.size() << " x micro-batches " << f.micro_batches << ", " << dp.gradient_bytes()
              << " gradient bytes per combine\nfinal parameters digest " << dist::hex(dist::digest(model)) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dist::Environment env(argc, argv);
  dist::Communicator world;
  try {
    return train(world, parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "train_dp: rank " << world.rank() << ": " << e.what() << "\n";
    world.abort(2);  // no rank may stay waiting in a collective
  }
}
