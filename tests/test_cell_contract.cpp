// What a new cell gets from the library: its gate weights in one call (Cell::add_gate_weights), a
// name in errors (Cell::type_name), and wrappers that check its input, its initial state and what
// its step returns, naming the cell and the missing piece (so the cell itself need not check).
#include <cmath>
#include <string>

#include "nn/cells.h"
#include "nn/recurrent.h"
#include "nn/variants/cifg_lstm.h"
#include "nn/variants/layer_norm_lstm.h"
#include "nn/variants/mgu.h"
#include "nn/variants/peephole_lstm.h"
#include "testing.h"

using namespace seqgrad;
using namespace seqgrad::nn;
using seqgrad::testing::kH;
using seqgrad::testing::kI;

namespace {

// What a user's cell may get wrong (none: the cell as it should be).
enum class Mistake { none, no_cell_state_declared, stray_c, lost_c, wrong_h };

// A user's LSTM-like cell with no check_input, written like README's examples.
class MyLstm : public Cell {
 public:
  MyLstm(int64_t input_size, int64_t hidden_size, Rng& rng, Mistake mistake = Mistake::none)
      : Cell(input_size, hidden_size), mistake_(mistake) {
    add_gate_weights(4, rng, weight_ih, weight_hh, bias);
  }
  State step(const Var& x, const State& s) override {
    Tape& tape = x.tape();
    auto [i, f, g, o] = chunk<4>(affine(x, weight_ih.var(tape), s.h, weight_hh.var(tape), bias.var(tape)), 1);
    if (mistake_ == Mistake::stray_c) return {sigmoid(o), tanh(g)};  // returns a c it never declared
    if (mistake_ == Mistake::wrong_h) return {concat(std::vector<Var>{i, f}, 1), Var()};  // (B, 2H)
    Var c = sigmoid(f) * s.c + sigmoid(i) * tanh(g);
    if (mistake_ == Mistake::lost_c) return {sigmoid(o) * tanh(c), Var()};
    return {sigmoid(o) * tanh(c), c};
  }
  bool has_cell_state() const override {
    return mistake_ != Mistake::no_cell_state_declared && mistake_ != Mistake::stray_c && mistake_ != Mistake::wrong_h;
  }

  Parameter weight_ih, weight_hh, bias;

 private:
  Mistake mistake_;
};

// A cell with a gate count of its choosing (bad ones included).
class Gated : public Cell {
 public:
  Gated(int64_t gates, Rng& rng) : Cell(2, 3) { add_gate_weights(gates, rng, weight_ih, weight_hh, bias); }
  State step(const Var&, const State& s) override { return {s.h * 1.0, Var()}; }  // never run

  Parameter weight_ih, weight_hh, bias;
};

// A cell that chooses its own name for errors.
class Named : public Elman {
 public:
  using Elman::Elman;
  std::string type_name() const override { return "encoder cell"; }
};

}  // namespace

TEST_CASE("add_gate_weights: the names, shapes and draws the built-in cells always had", "[nn][cells]") {
  // The draws before the helper, in order: weight_ih, weight_hh, bias, each U(±1/√H).
  auto by_hand = [](int64_t G, int64_t I, int64_t H, uint64_t seed) {
    Rng rng(seed);
    const double a = 1.0 / std::sqrt(double(H));
    std::vector<Tensor> t{Tensor::uniform({G * H, I}, rng, -a, a), Tensor::uniform({G * H, H}, rng, -a, a),
                          Tensor::uniform({G * H}, rng, -a, a)};
    return t;
  };
  auto require_same = [&](Cell& cell, int64_t G, uint64_t seed) {
    INFO(cell.type_name());
    const std::vector<Tensor> want = by_hand(G, kI, kH, seed);
    auto params = cell.named_parameters();
    REQUIRE(params.size() >= 3);
    const char* names[3] = {"weight_ih", "weight_hh", "bias"};
    for (size_t k = 0; k < 3; ++k) {
      CHECK(params[k].first == names[k]);
      REQUIRE(params[k].second->value.shape() == want[k].shape());
      const std::vector<double> got = params[k].second->value.to_vector(), w = want[k].to_vector();
      CHECK(got == w);  // bitwise
    }
  };
  uint64_t seed = 500;
  auto make = [&seed]() { return Rng(++seed); };
  Rng r1 = make();
  Elman elman(kI, kH, r1);
  require_same(elman, 1, seed);
  Rng r2 = make();
  Lstm lstm(kI, kH, r2);
  require_same(lstm, 4, seed);
  Rng r3 = make();
  Gru gru(kI, kH, r3, GruForm::reset_after);
  require_same(gru, 3, seed);
  Rng r4 = make();
  CifgLstm cifg(kI, kH, r4);
  require_same(cifg, 3, seed);
  Rng r5 = make();
  Mgu mgu(kI, kH, r5);
  require_same(mgu, 2, seed);
  Rng r6 = make();
  PeepholeLstm peephole(kI, kH, r6);
  require_same(peephole, 4, seed);
  Rng r7 = make();
  LayerNormLstm ln(kI, kH, r7);
  require_same(ln, 4, seed);

  Rng rng(1);
  CHECK(Gated(5, rng).weight_hh.value.shape() == Shape{15, 3});
  REQUIRE_THROWS_NAMING(Gated(0, rng), "Gated: add_gate_weights: gates must be positive, got 0");
  MyLstm mine(4, 3, rng);
  CHECK(mine.num_parameters() == 4 * (3 * 4 + 3 * 3 + 3));
  for (const auto& [name, p] : mine.named_parameters())
    for (double v : p->value.to_vector()) CHECK(std::abs(v) <= 1.0 / std::sqrt(3.0));
}

TEST_CASE("type_name: the class name without namespaces, or the cell's own", "[nn][cells]") {
  Rng rng(2);
  CHECK(Lstm(2, 3, rng).type_name() == "Lstm");
  CHECK(Gru(2, 3, rng).type_name() == "Gru");
  CHECK(PeepholeLstm(2, 3, rng).type_name() == "PeepholeLstm");
  CHECK(MyLstm(4, 3, rng).type_name() == "MyLstm");
  CHECK(Named(2, 3, rng).type_name() == "encoder cell");
}

TEST_CASE("unroll names the cell when its input or initial state does not fit", "[nn][recurrent]") {
  Rng rng(3);
  MyLstm cell(4, 3, rng);
  Tape tape;
  Var x = tape.constant(Tensor::zeros({2, 5, 4}));
  REQUIRE_NOTHROW(unroll(cell, x));
  REQUIRE_THROWS_NAMING(unroll(cell, tape.constant(Tensor::zeros({2, 5, 6}))),
                        "unroll: cell 'MyLstm' expects input features 4, got x (2, 5, 6)");
  Var h = tape.constant(Tensor::zeros({2, 3})), wide = tape.constant(Tensor::zeros({2, 5}));
  REQUIRE_THROWS_NAMING(unroll(cell, x, {wide, h}),
                        "unroll: cell 'MyLstm' expects initial h f32 (2, 3), got f32 (2, 5)");
  REQUIRE_THROWS_NAMING(unroll(cell, x, {h, wide}),
                        "unroll: cell 'MyLstm' expects initial c f32 (2, 3), got f32 (2, 5)");
  REQUIRE_THROWS_NAMING(unroll(cell, x, {h, Var()}), "cell 'MyLstm' has a cell state", "initial c is undefined");
  Named named(4, 3, rng);
  REQUIRE_THROWS_NAMING(unroll(named, tape.constant(Tensor::zeros({2, 5, 6}))), "cell 'encoder cell' expects");

  // Through the stacked module: its first layer's cell is named too.
  Recurrent rnn(cell_factory<Lstm>(), 4, 3, rng, {.num_layers = 2});
  State wrong[2] = {{wide, h}, {h, h}};
  REQUIRE_THROWS_NAMING(rnn(x, rng, wrong), "unroll: cell 'Lstm' expects initial h f32 (2, 3), got f32 (2, 5)");
}

TEST_CASE("unroll names a step whose c disagrees with has_cell_state()", "[nn][recurrent]") {
  Rng rng(4);
  Tape tape;
  Var x = tape.constant(Tensor::zeros({2, 5, 4}));
  MyLstm forgot(4, 3, rng, Mistake::no_cell_state_declared);  // reads s.c, but declares no cell state
  REQUIRE_THROWS_NAMING(unroll(forgot, x), "unroll: cell 'MyLstm' step used an undefined Var",
                        "has_cell_state() is false, so state.c is undefined",
                        "must override has_cell_state() to return true");
  MyLstm stray(4, 3, rng, Mistake::stray_c);
  REQUIRE_THROWS_NAMING(unroll(stray, x),
                        "unroll: cell 'MyLstm' step returned a cell state c but has_cell_state() is false");
  MyLstm lost(4, 3, rng, Mistake::lost_c);
  REQUIRE_THROWS_NAMING(unroll(lost, x),
                        "unroll: cell 'MyLstm' has a cell state (has_cell_state() is true) but its step returned no c");
  MyLstm wrong(4, 3, rng, Mistake::wrong_h);
  REQUIRE_THROWS_NAMING(unroll(wrong, x), "unroll: cell 'MyLstm' step returned h f32 (2, 6) but expected (2, 3)");
  Recurrent rnn(cell_factory<MyLstm>(Mistake::stray_c), 4, 3, rng);
  REQUIRE_THROWS_NAMING(rnn(x), "unroll: cell 'MyLstm' step returned a cell state c");
  // gradcheck_cell, usually the first thing run on a new cell, steps it the same way.
  REQUIRE_THROWS_NAMING(gradcheck_cell(forgot, 2, 3), "gradcheck_cell: cell 'MyLstm' step used an undefined Var",
                        "must override has_cell_state() to return true");
  REQUIRE_THROWS_NAMING(gradcheck_cell(lost, 2, 3), "gradcheck_cell: cell 'MyLstm' has a cell state", "returned no c");
}
