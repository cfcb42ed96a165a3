// dist::Resumable (see resume.h): optim::Resumable on every rank; Communicator::agree turns any
// rank's failure into the same error on every rank.
#include "dist/resume.h"

#include <stdexcept>

namespace seqgrad::dist {

Resumable::Resumable(Communicator& comm, std::string path, nn::Module& model, optim::Optimizer& optimizer,
                     optim::ResumeOptions options)
    : comm_(comm), options_(options), run_(std::move(path), model, optimizer, {}, std::move(options)) {}

int64_t Resumable::resume() {
  int64_t step = 0;
  comm_.agree("dist::Resumable::resume", [&] { step = run_.resume(); });
  const double mine = double(step);
  const std::vector<double> steps = comm_.allgather(std::span<const double>(&mine, 1));
  for (size_t r = 1; r < steps.size(); ++r)
    if (steps[r] != steps[0])
      throw std::runtime_error("dist::Resumable::resume: '" + path() + "': rank 0 resumed at step " +
                               std::to_string(int64_t(steps[0])) + " but rank " + std::to_string(r) + " at step " +
                               std::to_string(int64_t(steps[r])) +
                               "; the checkpoint must be on a file system every rank sees");
  return step;
}

bool Resumable::after_step(int64_t steps_done) {
  const bool stop = comm_.any(optim::Resumable::stop_requested());
  if (stop || steps_done % options_.every == 0) save(steps_done);
  return !stop;
}

void Resumable::save(int64_t steps_done) {
  comm_.agree(
      "dist::Resumable::save", [&] { run_.save(steps_done); }, /*only_rank=*/0);
}

}  // namespace seqgrad::dist
