// Uses the installed headers and libraries: gradchecks an LSTM cell and takes one Adam step on a
// batch of the adding problem.
#include <nn/cells.h>
#include <nn/gradcheck_cell.h>
#include <nn/recurrent.h>
#include <optim/optim.h>
#include <tasks/tasks.h>

#include <iostream>

int main() {
  using namespace seqgrad;
  Rng rng(3);
  nn::Lstm cell(2, 4, rng);
  GradcheckResult r = nn::gradcheck_cell(cell, 2, 3);
  std::cout << r.str() << "\n";
  optim::Adam adam(cell.named_parameters(), {.lr = 1e-3});
  Tape tape;
  tasks::Batch batch = tasks::adding_problem(rng, 2, 5);  // x (2, 5, 2), target (2, 1)
  Var h = nn::unroll(cell, tape.constant(batch.x)).final.h;
  tape.backward(mean(h * h));
  adam.step();
  return r.ok ? 0 : 1;
}
