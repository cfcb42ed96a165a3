// Cell variants under nn/variants/: each passes gradcheck_cell and one check of what makes it
// that variant.
#include <cmath>
#include <string>
#include <vector>

#include "nn/cells.h"
#include "nn/gradcheck_cell.h"
#include "nn/variants/cifg_lstm.h"
#include "nn/variants/irnn.h"
#include "nn/variants/layer_norm_lstm.h"
#include "nn/variants/lstm1997.h"
#include "nn/variants/mgu.h"
#include "nn/variants/peephole_lstm.h"
#include "testing.h"

using namespace seqgrad;
using namespace seqgrad::nn;
using namespace seqgrad::testing;  // random_normal, kB/kI/kH/kT, require_cell_gradcheck

namespace {

// One step in float64 from random x, h (and c); the cell must already be float64.
State step_f64(Cell& cell, Tape& tape, uint64_t seed = 31) {
  State s{tape.constant(random_normal({kB, kH}, seed + 1)), Var()};
  if (cell.has_cell_state()) s.c = tape.constant(random_normal({kB, kH}, seed + 2));
  return cell.step(tape.constant(random_normal({kB, kI}, seed)), s);
}

double sigm(double v) { return 1.0 / (1.0 + std::exp(-v)); }

}  // namespace

TEST_CASE("every variant passes gradcheck_cell", "[nn][variants]") {
  Rng rng(1);
  PeepholeLstm peephole(kI, kH, rng);
  CifgLstm cifg(kI, kH, rng);
  LayerNormLstm ln(kI, kH, rng);
  Mgu mgu(kI, kH, rng);
  Irnn irnn(kI, kH, rng);
  Lstm1997 original(kI, kH, rng);
  require_cell_gradcheck(original);
  require_cell_gradcheck(peephole);
  require_cell_gradcheck(cifg);
  require_cell_gradcheck(ln);
  require_cell_gradcheck(mgu);
  require_cell_gradcheck(irnn);
}

TEST_CASE("peephole LSTM with zero peepholes is the LSTM", "[nn][variants]") {
  Rng rng(2);
  Lstm lstm(kI, kH, rng);
  PeepholeLstm peep(kI, kH, rng);
  CHECK(peep.num_parameters() == lstm.num_parameters() + 3 * kH);
  lstm.to(DType::f64);
  peep.to(DType::f64);
  peep.weight_ih.value.copy_from(lstm.weight_ih.value);
  peep.weight_hh.value.copy_from(lstm.weight_hh.value);
  peep.bias.value.copy_from(lstm.bias.value);
  for (Parameter* p : {&peep.peephole_i, &peep.peephole_f, &peep.peephole_o}) p->value.fill(0.0);
  Tape tape;
  State a = step_f64(lstm, tape), b = step_f64(peep, tape);
  CHECK(a.h.value().to_vector() == b.h.value().to_vector());
  CHECK(a.c.value().to_vector() == b.c.value().to_vector());
  // A non-zero output peephole changes h but not c.
  peep.peephole_o.value.fill(0.5);
  State d = step_f64(peep, tape);
  CHECK(d.c.value().to_vector() == a.c.value().to_vector());
  CHECK(d.h.value().to_vector() != a.h.value().to_vector());
}

TEST_CASE("CIFG LSTM: i = 1 − f, three gate blocks", "[nn][variants]") {
  Rng rng(3);
  CifgLstm cell(kI, kH, rng);
  CHECK(cell.num_parameters() == 3 * (kH * (kH + kI) + kH));
  cell.to(DType::f64);
  Tape tape;
  const Tensor x = random_normal({kB, kI}, 31), h = random_normal({kB, kH}, 32), c = random_normal({kB, kH}, 33);
  State out = step_f64(cell, tape);
  const Tensor &W = cell.weight_ih.value, &U = cell.weight_hh.value, &b = cell.bias.value;
  for (int64_t r = 0; r < kB; ++r)
    for (int64_t j = 0; j < kH; ++j) {
      auto gate = [&](int blk) {
        const int64_t row = blk * kH + j;
        double z = b.at({row});
        for (int64_t k = 0; k < kI; ++k) z += W.at({row, k}) * x.at({r, k});
        for (int64_t k = 0; k < kH; ++k) z += U.at({row, k}) * h.at({r, k});
        return z;
      };
      const double f = sigm(gate(0)), i = 1.0 - f;  // the coupling
      const double c1 = f * c.at({r, j}) + i * std::tanh(gate(1));
      CHECK(out.c.value().at({r, j}) == Approx(c1).margin(1e-12));
      CHECK(out.h.value().at({r, j}) == Approx(sigm(gate(2)) * std::tanh(c1)).margin(1e-12));
    }
}

TEST_CASE("layer-norm LSTM: submodules named, invariant to the scale of its weights", "[nn][variants]") {
  Rng rng(4);
  LayerNormLstm cell(kI, kH, rng);
  std::vector<std::string> names;
  for (auto& [name, p] : cell.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"weight_ih", "weight_hh", "bias", "ln_ih.weight", "ln_ih.bias",
                                          "ln_hh.weight", "ln_hh.bias", "ln_c.weight", "ln_c.bias"});
  CHECK(cell.num_parameters() == 4 * (kH * (kH + kI) + kH) + 2 * (4 * kH) * 2 + 2 * kH);
  cell.to(DType::f64);
  Tape tape;
  State a = step_f64(cell, tape);
  // LayerNorm removes the scale of x·W_ihᵀ and h·W_hhᵀ (up to its eps), which a plain LSTM would not.
  for (Parameter* p : {&cell.weight_ih, &cell.weight_hh}) {
    double* w = p->value.data<double>();
    for (int64_t k = 0; k < p->value.numel(); ++k) w[k] *= 7.0;
  }
  State b = step_f64(cell, tape);
  for (int64_t k = 0; k < kB * kH; ++k) {
    CHECK(b.h.value().data<double>()[k] == Approx(a.h.value().data<double>()[k]).margin(1e-4));
    CHECK(b.c.value().data<double>()[k] == Approx(a.c.value().data<double>()[k]).margin(1e-4));
  }
}

TEST_CASE("MGU: parameter count, a closed forget gate keeps h, an open one gives h̃", "[nn][variants]") {
  Rng rng(5);
  Mgu cell(kI, kH, rng);
  CHECK(cell.num_parameters() == 2 * (kH * (kH + kI) + kH));
  CHECK(!cell.has_cell_state());
  cell.to(DType::f64);
  const Tensor x = random_normal({kB, kI}, 31), h = random_normal({kB, kH}, 32);
  Tape tape;
  for (int64_t j = 0; j < kH; ++j) cell.bias.value.set({j}, -60.0);  // f ≈ e⁻⁶⁰: h_t = h_{t−1}
  State closed = step_f64(cell, tape);
  CHECK(closed.h.value().to_vector() == h.to_vector());
  for (int64_t j = 0; j < kH; ++j) cell.bias.value.set({j}, 60.0);  // f ≈ 1: h_t = tanh(x·W_hxᵀ + h·W_hhᵀ + b_h)
  State open = step_f64(cell, tape);
  const Tensor &W = cell.weight_ih.value, &U = cell.weight_hh.value, &b = cell.bias.value;
  for (int64_t r = 0; r < kB; ++r)
    for (int64_t j = 0; j < kH; ++j) {
      double z = b.at({kH + j});
      for (int64_t k = 0; k < kI; ++k) z += W.at({kH + j, k}) * x.at({r, k});
      for (int64_t k = 0; k < kH; ++k) z += U.at({kH + j, k}) * h.at({r, k});
      CHECK(open.h.value().at({r, j}) == Approx(std::tanh(z)).margin(1e-12));
    }
}

TEST_CASE("LSTM 1997: no forget gate, the paper's squashings, negative output-gate bias", "[nn][variants]") {
  Rng rng(7), same(7);
  Lstm1997 cell(kI, kH, rng, -2.0);
  Lstm1997 unshifted(kI, kH, same, 0.0);
  CHECK(cell.num_parameters() == 3 * (kH * (kH + kI) + kH));
  CHECK(cell.has_cell_state());
  for (int64_t j = 0; j < 3 * kH; ++j)  // only the o block is shifted, by -2
    CHECK(cell.bias.value.at({j}) == Approx(unshifted.bias.value.at({j}) - (j >= 2 * kH ? 2.0 : 0.0)).margin(1e-6));
  cell.to(DType::f64);
  const Tensor x = random_normal({kB, kI}, 31), h = random_normal({kB, kH}, 32), c = random_normal({kB, kH}, 33);
  Tape tape;
  const State next = step_f64(cell, tape);
  const Tensor &W = cell.weight_ih.value, &U = cell.weight_hh.value, &b = cell.bias.value;
  auto pre = [&](int64_t block, int64_t r, int64_t j) {  // x·W_ihᵀ + h·W_hhᵀ + b for one gate unit
    double z = b.at({block * kH + j});
    for (int64_t k = 0; k < kI; ++k) z += W.at({block * kH + j, k}) * x.at({r, k});
    for (int64_t k = 0; k < kH; ++k) z += U.at({block * kH + j, k}) * h.at({r, k});
    return z;
  };
  for (int64_t r = 0; r < kB; ++r)
    for (int64_t j = 0; j < kH; ++j) {
      const double c_next = c.at({r, j}) + sigm(pre(0, r, j)) * (4 * sigm(pre(1, r, j)) - 2);  // no forget gate
      CHECK(next.c.value().at({r, j}) == Approx(c_next).margin(1e-12));
      CHECK(next.h.value().at({r, j}) == Approx(sigm(pre(2, r, j)) * (2 * sigm(c_next) - 1)).margin(1e-12));
    }
}

TEST_CASE("chrono initialisation: b_f = log U(1, T - 1), b_i = -b_f, nothing else changes", "[nn][cells]") {
  Rng rng(3), same(3), draws(11);
  Lstm cell(kI, 200, rng), before(kI, 200, same);
  chrono_init(cell, 100.0, draws);
  const int64_t H = 200;
  double lowest = 1e9, highest = -1e9;
  for (int64_t j = 0; j < H; ++j) {
    const double f = cell.bias.value.at({H + j});
    CHECK(cell.bias.value.at({j}) == -f);
    lowest = std::min(lowest, f), highest = std::max(highest, f);
    CHECK(cell.bias.value.at({2 * H + j}) == before.bias.value.at({2 * H + j}));  // g and o blocks untouched
    CHECK(cell.bias.value.at({3 * H + j}) == before.bias.value.at({3 * H + j}));
  }
  CHECK(lowest >= 0.0);
  CHECK(highest <= std::log(99.0) + 1e-6);
  CHECK(highest > std::log(50.0));  // 200 draws spread over the range
  CHECK(bitwise_equal(cell.weight_hh.value, before.weight_hh.value));
  REQUIRE_THROWS_WITH(chrono_init(cell, 2.0, draws), Catch::Contains("chrono_init") && Catch::Contains("> 2"));
}

TEST_CASE("IRNN: identity recurrence, tiny input weights, zero bias", "[nn][variants]") {
  Rng rng(6);
  const int64_t H = 64, I = 32;
  Irnn cell(I, H, rng);
  for (int64_t i = 0; i < H; ++i)
    for (int64_t j = 0; j < H; ++j) REQUIRE(cell.weight_hh.value.at({i, j}) == (i == j ? 1.0 : 0.0));
  double sq = 0;
  for (double w : cell.weight_ih.value.to_vector()) sq += w * w;
  CHECK(std::sqrt(sq / double(H * I)) == Approx(1e-3).epsilon(0.1));
  for (double b : cell.bias.value.to_vector()) CHECK(b == 0.0);
  // With zero input a non-negative state passes through unchanged.
  Tape tape;
  Tensor h = Tensor::uniform({2, H}, rng, 0.0, 1.0);
  State out = cell.step(tape.constant(Tensor::zeros({2, I})), State{tape.constant(h), Var()});
  CHECK(out.h.value().to_vector() == h.to_vector());
}
