// Uses the installed headers and libraries: gradchecks an LSTM cell and takes one Adam step.
#include <nn/cells.h>
#include <nn/gradcheck_cell.h>
#include <optim/optim.h>

#include <iostream>

int main() {
  using namespace seqgrad;
  Rng rng(3);
  nn::Lstm cell(3, 4, rng);
  GradcheckResult r = nn::gradcheck_cell(cell, 2, 3);
  std::cout << r.str() << "\n";
  optim::Adam adam(cell.named_parameters(), {.lr = 1e-3});
  Tape tape;
  nn::State s = cell.step(tape.constant(Tensor::ones({2, 3})), cell.zero_state(tape, 2));
  tape.backward(sum(s.h));
  adam.step();
  return r.ok ? 0 : 1;
}
