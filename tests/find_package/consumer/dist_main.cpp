// Uses the installed seqgrad::dist: one data-parallel step of an LSTM in a 1-rank world (started
// without mpirun, MPI runs as a singleton).
#include <dist/communicator.h>
#include <dist/data_parallel.h>
#include <nn/cells.h>
#include <optim/optim.h>

#include <iostream>

int main(int argc, char** argv) {
  using namespace seqgrad;
  dist::Environment env(argc, argv);
  dist::Communicator world;
  Rng rng(3);
  nn::Lstm cell(3, 4, rng);
  optim::Adam adam(cell.named_parameters(), {.lr = 1e-3});
  dist::DataParallel dp(world, cell, adam, {.micro_batches = 2});
  Tape tape;
  const double loss = dp.step([&](int64_t, int64_t i) {
    tape.reset();
    nn::State s = cell.step(tape.constant(Tensor::full({2, 3}, double(i + 1))), cell.zero_state(tape, 2));
    Var l = mean(s.h * s.h);
    tape.backward(l);
    return l.item();
  });
  std::cout << "data-parallel step done on " << world.size() << " rank, loss " << loss << "\n";
  return 0;
}
