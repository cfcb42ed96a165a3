// A new cell variant in one file, checked and trained: JANET (van der Westhuizen & Lasenby 2018),
// an LSTM with only a forget gate. Nothing under autograd/ or nn/ changes.
//   [f g] = x·W_ihᵀ + h·W_hhᵀ + b,   c_t = σ(f) ⊙ c_{t−1} + (1 − σ(f − β)) ⊙ tanh(g),   h_t = c_t
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nn/gradcheck_cell.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "optim/optim.h"
#include "tasks/tasks.h"

using namespace seqgrad;

// 1. The cell: parameters registered by name, one step written as expressions.
class Janet : public nn::Cell {
 public:
  Janet(int64_t input_size, int64_t hidden_size, Rng& rng, double beta = 1.0)
      : Cell(input_size, hidden_size), beta_(beta) {
    add_gate_weights(/*gates=*/2, rng, weight_ih, weight_hh, bias);  // (2H, I), (2H, H), (2H): U(±1/√H)
    bias.value.fill(0.0);
  }
  nn::State step(const Var& x, const nn::State& s) override {
    Tape& tape = x.tape();
    auto [f, g] = chunk<2>(affine(x, weight_ih.var(tape), s.h, weight_hh.var(tape), bias.var(tape)), 1);
    Var c = sigmoid(f) * s.h + (1.0 - sigmoid(f - beta_)) * tanh(g);
    return {c, Var()};
  }
  nn::Parameter weight_ih, weight_hh, bias;

 private:
  double beta_;
};

// 2. A model around it: any wrapper works with any cell.
struct Model : nn::Module {
  nn::Recurrent rnn;
  nn::Linear head;
  Model(Rng& rng) : rnn(nn::cell_factory<Janet>(1.0), 2, 32, rng), head(32, 1, rng) {
    register_module("rnn", rnn);
    register_module("head", head);
  }
};

int main(int argc, char** argv) {
  const int steps = argc == 3 && std::string(argv[1]) == "--steps" ? std::atoi(argv[2]) : 2000;
  Rng rng(7);

  // 3. Gradient check in float64 over parameters, inputs and initial state: one line.
  Janet probe(3, 4, rng);
  GradcheckResult check = nn::gradcheck_cell(probe, /*batch=*/2, /*steps=*/4);
  std::printf("%s\n", check.str().c_str());
  if (!check.ok) return 1;

  // 4. Train on the adding problem (T = 20) with Adam and gradient clipping.
  Model model(rng);
  optim::Adam adam(model.named_parameters(), {.lr = 1e-2});
  Tape tape;
  double first = 0, last = 0;
  for (int step = 1; step <= steps; ++step) {
    tape.reset();
    adam.zero_grad();
    tasks::Batch batch = tasks::adding_problem(rng, 32, 20);
    Var h = model.rnn(tape.constant(batch.x)).final[0].h;  // no dropout: no Rng needed
    Var loss = mse(model.head(h), tape.constant(batch.target));
    tape.backward(loss);
    optim::clip_grad_norm(model.named_parameters(), 1.0);
    adam.step();
    if (step <= 50) first += loss.item() / 50;
    if (step > steps - 50) last += loss.item() / 50;
  }
  std::printf("mean MSE of the first 50 steps %.4f, of the last 50 %.4f\n", first, last);
  return last < first ? 0 : 1;
}
