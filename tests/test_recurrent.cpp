// Generic recurrent wrappers: unroll, Recurrent (stacked, bidirectional), variable lengths,
// variational dropout, zoneout, truncated BPTT and GradientProbe.
#include <cmath>
#include <functional>

#include "nn/cells.h"
#include "nn/gradcheck_cell.h"
#include "nn/recurrent.h"
#include "testing.h"

using namespace seqgrad;
using namespace seqgrad::nn;
using seqgrad::testing::random_normal;

namespace {

// h_t = w·h_{t−1} + x_t with a scalar w and no parameters: ∂L/∂h_k = w^(T−k) for L = Σ h_T.
class ScalarLinear : public Cell {
 public:
  explicit ScalarLinear(double w) : Cell(1, 1), w_(w) {}
  State step(const Var& x, const State& s) override { return {s.h * w_ + x, Var()}; }

 private:
  double w_;
};

// h_t = x_t (I = H): shows exactly what the cell was fed.
class Echo : public Cell {
 public:
  explicit Echo(int64_t size) : Cell(size, size) {}
  State step(const Var& x, const State&) override { return {x * 1.0, Var()}; }
};

// Σ y ⊙ R with a fixed random R: a scalar that exercises every element.
Var project(const Var& y, uint64_t seed) {
  return sum(y * y.tape().constant(testing::random_uniform(y.shape(), 0.5, 1.5, seed)));
}
Var project_states(std::span<const State> states, uint64_t seed) {
  Var s = project(states[0].h, seed);
  for (size_t i = 0; i < states.size(); ++i) {
    if (i) s = s + project(states[i].h, seed + 2 * i);
    if (states[i].c.defined()) s = s + project(states[i].c, seed + 2 * i + 1);
  }
  return s;
}

}  // namespace

// Requires a gradcheck_module(...) result to pass, reporting the worst element on failure.
#define REQUIRE_MODULE_GRADCHECK(...)     \
  do {                                    \
    GradcheckResult mgc_ = (__VA_ARGS__); \
    INFO(mgc_.str());                     \
    REQUIRE(mgc_.ok);                     \
    REQUIRE(mgc_.checked > 0);            \
  } while (0)

TEST_CASE("unroll: outputs, per-step states and final state match hand-stepping", "[nn][recurrent]") {
  Rng rng(1);
  Lstm cell(3, 4, rng);
  cell.to(DType::f64);
  Tape tape;
  Var x = tape.variable(random_normal({2, 5, 3}, 2));
  UnrollResult r = unroll(cell, x);
  REQUIRE(r.output.shape() == Shape{2, 5, 4});
  REQUIRE(r.h.size() == 5);
  REQUIRE(r.c.size() == 5);
  State s = cell.zero_state(tape, 2);
  for (int64_t t = 0; t < 5; ++t) {
    s = cell.step(reshape(slice(x, 1, t, t + 1), {2, 3}), s);
    CHECK(bitwise_equal(s.h.value(), r.h[size_t(t)].value()));
    CHECK(bitwise_equal(s.c.value(), r.c[size_t(t)].value()));
    CHECK(bitwise_equal(s.h.value(), reshape(slice(r.output, 1, t, t + 1), {2, 4}).value()));
  }
  CHECK(bitwise_equal(r.final.h.value(), s.h.value()));
  CHECK(bitwise_equal(r.final.c.value(), s.c.value()));

  // Reverse: h is indexed by time, and the first processed step is t = T − 1.
  UnrollResult rev = unroll(cell, x, {}, {.reverse = true});
  State z = cell.zero_state(tape, 2);
  State first = cell.step(reshape(slice(x, 1, 4, 5), {2, 3}), z);
  CHECK(bitwise_equal(first.h.value(), rev.h[4].value()));
  CHECK(bitwise_equal(rev.final.h.value(), rev.h[0].value()));
}

TEST_CASE("unroll gradcheck: Elman and LSTM over parameters, inputs and initial state", "[nn][recurrent]") {
  Rng rng(3);
  Elman elman(3, 3, rng);
  elman.to(DType::f64);
  REQUIRE_MODULE_GRADCHECK(
      gradcheck_module(elman, {random_normal({2, 4, 3}, 4), random_normal({2, 3}, 5)}, [&](std::span<const Var> v) {
        UnrollResult r = unroll(elman, v[0], {v[1], Var()});
        return project(r.output, 6) + project(r.final.h, 7);
      }));
  Lstm lstm(2, 3, rng);
  lstm.to(DType::f64);
  REQUIRE_MODULE_GRADCHECK(
      gradcheck_module(lstm, {random_normal({2, 3, 2}, 8), random_normal({2, 3}, 9), random_normal({2, 3}, 10)},
                       [&](std::span<const Var> v) {
                         UnrollResult r = unroll(lstm, v[0], {v[1], v[2]}, {.reverse = true});
                         return project(r.output, 11) + project(r.final.c, 12);
                       }));
}

TEST_CASE("Recurrent: PyTorch parameter names, h_n order and output shapes", "[nn][recurrent]") {
  Rng rng(4);
  Recurrent rnn(cell_factory<Lstm>(), 3, 4, rng, {.num_layers = 2, .bidirectional = true});
  std::vector<std::string> names;
  for (auto& [name, p] : rnn.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"l0.weight_ih", "l0.weight_hh", "l0.bias", "l0_reverse.weight_ih",
                                          "l0_reverse.weight_hh", "l0_reverse.bias", "l1.weight_ih", "l1.weight_hh",
                                          "l1.bias", "l1_reverse.weight_ih", "l1_reverse.weight_hh",
                                          "l1_reverse.bias"});
  CHECK(rnn.cell(1).input_size() == 8);
  CHECK(rnn.cell(1, true).input_size() == 8);
  CHECK(rnn.num_parameters() == 2 * 4 * (4 * 7 + 4) + 2 * 4 * (4 * 12 + 4));

  Tape tape;
  Var x = tape.constant(Tensor::normal({2, 5, 3}, rng));
  RecurrentResult r = rnn(x, rng);
  REQUIRE(r.output.shape() == Shape{2, 5, 8});
  REQUIRE(r.final.size() == 4);
  REQUIRE(r.runs.size() == 4);
  // Layer 1 forward (index 2) is the first half of the output; its reverse (3) the second.
  CHECK(bitwise_equal(r.final[2].h.value(), reshape(slice(slice(r.output, 1, 4, 5), 2, 0, 4), {2, 4}).value()));
  CHECK(bitwise_equal(r.final[3].h.value(), reshape(slice(slice(r.output, 1, 0, 1), 2, 4, 8), {2, 4}).value()));
  CHECK(bitwise_equal(r.final[0].c.value(), r.runs[0].c[4].value()));
}

TEST_CASE("Recurrent gradcheck: 2-layer stack and bidirectional", "[nn][recurrent]") {
  Rng rng(5);
  SECTION("2-layer GRU stack with initial states") {
    Recurrent rnn(cell_factory<Gru>(), 2, 3, rng, {.num_layers = 2});
    rnn.to(DType::f64);
    REQUIRE_MODULE_GRADCHECK(
        gradcheck_module(rnn, {random_normal({2, 3, 2}, 1), random_normal({2, 3}, 2), random_normal({2, 3}, 3)},
                         [&](std::span<const Var> v) {
                           Rng r(9);
                           State init[] = {{v[1], Var()}, {v[2], Var()}};
                           RecurrentResult out = rnn(v[0], r, init);
                           return project(out.output, 4) + project_states(out.final, 5);
                         }));
  }
  SECTION("bidirectional Elman, 2 layers") {
    Recurrent rnn(cell_factory<Elman>(), 2, 2, rng, {.num_layers = 2, .bidirectional = true});
    rnn.to(DType::f64);
    REQUIRE_MODULE_GRADCHECK(gradcheck_module(rnn, {random_normal({2, 3, 2}, 6)}, [&](std::span<const Var> v) {
      Rng r(9);
      RecurrentResult out = rnn(v[0], r);
      return project(out.output, 7) + project_states(out.final, 8);
    }));
  }
}

TEST_CASE("variable lengths: frozen state, zero outputs, gradcheck", "[nn][recurrent]") {
  Rng rng(6);
  const std::vector<int64_t> lengths{4, 2, 3};
  SECTION("semantics") {
    Elman cell(2, 3, rng);
    cell.to(DType::f64);
    Tape tape;
    Var x = tape.constant(random_normal({3, 4, 2}, 1));
    for (bool reverse : {false, true}) {
      UnrollResult r = unroll(cell, x, {}, {.lengths = lengths, .reverse = reverse});
      for (int64_t b = 0; b < 3; ++b)
        for (int64_t t = lengths[size_t(b)]; t < 4; ++t)
          for (int64_t j = 0; j < 3; ++j) CHECK(r.output.value().at({b, t, j}) == 0.0);
      // Forward: the row-1 state is frozen after t = 1; reverse: it is zero until t = 1.
      for (int64_t j = 0; j < 3; ++j) {
        if (!reverse) {
          CHECK(r.h[3].value().at({1, j}) == r.h[1].value().at({1, j}));
          CHECK(r.final.h.value().at({1, j}) == r.h[1].value().at({1, j}));
        } else {
          CHECK(r.h[2].value().at({1, j}) == 0.0);
          CHECK(r.h[1].value().at({1, j}) == r.output.value().at({1, 1, j}));
        }
      }
    }
  }
  SECTION("gradcheck, bidirectional 2-layer LSTM") {
    Recurrent rnn(cell_factory<Lstm>(), 2, 2, rng, {.num_layers = 2, .bidirectional = true});
    rnn.to(DType::f64);
    REQUIRE_MODULE_GRADCHECK(gradcheck_module(rnn, {random_normal({3, 4, 2}, 2)}, [&](std::span<const Var> v) {
      Rng r(9);
      RecurrentResult out = rnn(v[0], r, {}, lengths);
      return project(out.output, 3) + project_states(out.final, 4);
    }));
  }
}

TEST_CASE("variable lengths: a padded batch equals each sequence alone (bidirectional 2-layer)", "[nn][recurrent]") {
  Rng rng(7);
  Recurrent rnn(cell_factory<Lstm>(), 3, 4, rng, {.num_layers = 2, .bidirectional = true});
  rnn.to(DType::f64);
  const int64_t B = 3, T = 5, F = 3;
  const std::vector<int64_t> lengths{5, 2, 3};
  const Tensor x = random_normal({B, T, F}, 8);
  const Tensor R = testing::random_uniform({B, T, 8}, 0.5, 1.5, 9);  // output weights
  auto loss_of = [&](const RecurrentResult& r, const Var& weights) {
    Var l = sum(r.output * weights);
    for (const State& s : r.final) l = l + sum(s.h) * 0.7 + sum(s.c) * 0.3;
    return l;
  };

  Tape tape;
  Rng unused(0);
  rnn.zero_grad();
  Var xv = tape.variable(x);
  RecurrentResult padded = rnn(xv, unused, {}, lengths);
  tape.backward(loss_of(padded, tape.constant(R)));
  std::vector<Tensor> padded_grads;
  for (Parameter* p : rnn.parameters()) padded_grads.push_back(p->grad.clone());
  const Tensor padded_xgrad = xv.grad();

  rnn.zero_grad();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t L = lengths[size_t(b)];
    Tape t2;
    Var xb = t2.variable(slice(slice(t2.constant(x), 0, b, b + 1), 1, 0, L).value().clone());
    RecurrentResult alone = rnn(xb, unused);
    t2.backward(loss_of(alone, slice(slice(t2.constant(R), 0, b, b + 1), 1, 0, L)));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < 8; ++j)
        CHECK(padded.output.value().at({b, t, j}) ==
              Approx(t < L ? alone.output.value().at({0, t, j}) : 0.0).margin(1e-12).epsilon(0));
    for (size_t i = 0; i < padded.final.size(); ++i)
      for (int64_t j = 0; j < 4; ++j) {
        CHECK(padded.final[i].h.value().at({b, j}) ==
              Approx(alone.final[i].h.value().at({0, j})).margin(1e-12).epsilon(0));
        CHECK(padded.final[i].c.value().at({b, j}) ==
              Approx(alone.final[i].c.value().at({0, j})).margin(1e-12).epsilon(0));
      }
    const Tensor g = xb.grad();
    for (int64_t t = 0; t < T; ++t)
      for (int64_t f = 0; f < F; ++f)
        CHECK(padded_xgrad.at({b, t, f}) == Approx(t < L ? g.at({0, t, f}) : 0.0).margin(1e-12).epsilon(0));
  }
  std::vector<Parameter*> params = rnn.parameters();
  for (size_t k = 0; k < params.size(); ++k) CHECK(max_abs_diff(params[k]->grad, padded_grads[k]) <= 1e-12);
}

TEST_CASE("variational dropout: one mask per sequence, tied over time, gradcheck with fixed masks", "[nn][recurrent]") {
  Rng rng(10);
  SECTION("masks are tied across steps and reproducible") {
    Echo echo(6);
    echo.to(DType::f64);
    Tape tape;
    const Tensor ones = Tensor::ones({4, 7, 6}, DType::f64);
    Var x = tape.constant(ones);
    Rng a(11), b(11);
    UnrollResult r1 = unroll(echo, x, {}, {.regularization = {.input_dropout = 0.5}, .rng = &a});
    UnrollResult r2 = unroll(echo, x, {}, {.regularization = {.input_dropout = 0.5}, .rng = &b});
    CHECK(bitwise_equal(r1.output.value(), r2.output.value()));
    int zeros = 0;
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 6; ++j) {
        const double v0 = r1.output.value().at({i, 0, j});
        CHECK((v0 == 0.0 || v0 == 2.0));
        zeros += v0 == 0.0;
        for (int64_t t = 1; t < 7; ++t) CHECK(r1.output.value().at({i, t, j}) == v0);
      }
    CHECK(zeros > 0);
    CHECK(zeros < 24);
    echo.eval();
    UnrollResult r3 = unroll(echo, x, {}, {.regularization = {.input_dropout = 0.5}});  // no rng needed in eval
    CHECK(bitwise_equal(r3.output.value(), ones.reshape({4, 7, 6})));
  }
  SECTION("gradcheck with fixed input and state masks (LSTM)") {
    Lstm cell(3, 3, rng);
    cell.to(DType::f64);
    Rng mr(12);
    UnrollMasks masks = draw_masks(cell, 2, 4, {.input_dropout = 0.3, .state_dropout = 0.4}, mr, DType::f64);
    REQUIRE(masks.input.shape() == Shape{2, 3});
    REQUIRE(masks.state.shape() == Shape{2, 3});
    REQUIRE_MODULE_GRADCHECK(
        gradcheck_module(cell, {random_normal({2, 4, 3}, 13), random_normal({2, 3}, 14), random_normal({2, 3}, 15)},
                         [&](std::span<const Var> v) {
                           UnrollResult r = unroll(cell, v[0], {v[1], v[2]}, {.masks = &masks});
                           return project(r.output, 16) + project(r.final.c, 17);
                         }));
  }
}

TEST_CASE("zoneout: keeps previous units by mask, expectation in eval, gradcheck with fixed masks", "[nn][recurrent]") {
  Rng rng(20);
  SECTION("semantics with an echo cell") {
    Echo echo(5);
    echo.to(DType::f64);
    Tape tape;
    const Tensor xs = random_normal({3, 6, 5}, 21);
    Var x = tape.constant(xs);
    Rng mr(22);
    UnrollMasks masks = draw_masks(echo, 3, 6, {.zoneout_h = 0.5}, mr, DType::f64);
    REQUIRE(masks.zoneout_h.size() == 6);
    REQUIRE(masks.zoneout_c.empty());
    UnrollResult r = unroll(echo, x, {}, {.masks = &masks});
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t j = 0; j < 5; ++j) {
        double prev = 0;
        for (int64_t t = 0; t < 6; ++t) {
          const double want = masks.zoneout_h[size_t(t)].at({b, j}) == 1.0 ? prev : xs.at({b, t, j});
          CHECK(r.output.value().at({b, t, j}) == want);
          prev = want;
        }
      }
    echo.eval();
    UnrollResult e = unroll(echo, x, {}, {.regularization = {.zoneout_h = 0.25}});
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t j = 0; j < 5; ++j) {
        double prev = 0;
        for (int64_t t = 0; t < 6; ++t) {
          prev = 0.75 * xs.at({b, t, j}) + 0.25 * prev;
          CHECK(e.output.value().at({b, t, j}) == Approx(prev).epsilon(1e-14));
        }
      }
  }
  SECTION("gradcheck with fixed masks on h and c (LSTM), with lengths") {
    Lstm cell(2, 3, rng);
    cell.to(DType::f64);
    Rng mr(23);
    UnrollMasks masks = draw_masks(cell, 2, 4, {.zoneout_h = 0.3, .zoneout_c = 0.5}, mr, DType::f64);
    REQUIRE(masks.zoneout_c.size() == 4);
    const std::vector<int64_t> lengths{4, 3};
    REQUIRE_MODULE_GRADCHECK(
        gradcheck_module(cell, {random_normal({2, 4, 2}, 24), random_normal({2, 3}, 25), random_normal({2, 3}, 26)},
                         [&](std::span<const Var> v) {
                           UnrollResult r = unroll(cell, v[0], {v[1], v[2]}, {.lengths = lengths, .masks = &masks});
                           return project(r.output, 27) + project(r.final.c, 28);
                         }));
    cell.eval();  // the expectation form is differentiable too
    REQUIRE_MODULE_GRADCHECK(gradcheck_module(cell, {random_normal({2, 4, 2}, 29)}, [&](std::span<const Var> v) {
      UnrollResult r = unroll(cell, v[0], {}, {.regularization = {.zoneout_h = 0.3, .zoneout_c = 0.5}});
      return project(r.output, 30) + project(r.final.c, 31);
    }));
  }
}

TEST_CASE("Recurrent: dropout between layers only, and off in eval", "[nn][recurrent]") {
  auto build = [](double p, int64_t layers) {
    Rng init(30);
    return std::make_unique<Recurrent>(cell_factory<Elman>(), 3, 4, init,
                                       RecurrentOptions{.num_layers = layers, .dropout = p});
  };
  auto plain = build(0.0, 2), dropped = build(0.5, 2);
  Tape tape;
  Rng xr(31);
  Var x = tape.constant(Tensor::normal({2, 5, 3}, xr));
  Rng r1(32), r2(32);
  const Tensor base = plain->forward(x, r1).output.value();
  CHECK_FALSE(bitwise_equal(dropped->forward(x, r2).output.value(), base));  // training: dropped
  dropped->eval();
  Rng r3(32);
  const Rng::State before = r3.state();
  CHECK(bitwise_equal(dropped->forward(x, r3).output.value(), base));
  CHECK(r3.state().s == before.s);  // no randomness drawn in eval
  // Not after the last layer: one layer with dropout equals one layer without, in training.
  auto one_plain = build(0.0, 1), one_dropped = build(0.5, 1);
  Rng r4(33), r5(33);
  CHECK(bitwise_equal(one_dropped->forward(x, r4).output.value(), one_plain->forward(x, r5).output.value()));
}

TEST_CASE("truncated BPTT: k = T equals full BPTT, k < T sums detached chunk gradients", "[nn][recurrent]") {
  Rng rng(40);
  Lstm cell(3, 4, rng);
  cell.to(DType::f64);
  const int64_t B = 2, T = 7;
  const Tensor x = random_normal({B, T, 3}, 41);
  const StateValues init{random_normal({B, 4}, 42), random_normal({B, 4}, 43)};
  auto chunk_loss = [](const UnrollResult& r) { return sum(r.output * r.output) + sum(r.final.c); };
  auto grads = [&] {
    std::vector<Tensor> g;
    for (Parameter* p : cell.parameters()) g.push_back(p->grad.clone());
    return g;
  };

  // Full BPTT reference.
  cell.zero_grad();
  Tape full_tape;
  UnrollResult full = unroll(cell, full_tape.constant(x), constants_of(full_tape, init));
  full_tape.backward(chunk_loss(full));
  const std::vector<Tensor> full_grads = grads();
  const StateValues full_final = values_of(full.final);

  SECTION("k = T") {
    cell.zero_grad();
    Tape tape;
    int calls = 0;
    StateValues fin = truncated_bptt(
        tape, cell, x, T,
        [&](const UnrollResult& r, int64_t i) {
          CHECK(i == 0);
          ++calls;
          tape.backward(chunk_loss(r));
        },
        init);
    CHECK(calls == 1);
    std::vector<Tensor> g = grads();
    for (size_t k = 0; k < g.size(); ++k) CHECK(bitwise_equal(g[k], full_grads[k]));
    CHECK(bitwise_equal(fin.h, full_final.h));
    CHECK(bitwise_equal(fin.c, full_final.c));
  }
  SECTION("k = 3 < T, tape reset between chunks") {
    const int64_t k = 3;
    // Hand-built reference: step the cell, backward per chunk, carry the state as constants.
    cell.zero_grad();
    StateValues carried = init;
    for (int64_t start = 0; start < T; start += k) {
      Tape t;
      State s = constants_of(t, carried);
      std::vector<Var> hs;
      for (int64_t step = start; step < std::min(start + k, T); ++step) {
        s = cell.step(reshape(slice(t.constant(x), 1, step, step + 1), {B, 3}), s);
        hs.push_back(s.h);
      }
      Var out = stack(hs, 1);
      t.backward(sum(out * out) + sum(s.c));
      carried = values_of(s);
    }
    const std::vector<Tensor> ref = grads();

    cell.zero_grad();
    Tape tape;
    std::vector<int64_t> sizes;
    StateValues fin = truncated_bptt(
        tape, cell, x, k,
        [&](const UnrollResult& r, int64_t) {
          sizes.push_back(r.output.size(1));
          tape.backward(chunk_loss(r));
          tape.reset();
        },
        init);
    CHECK(sizes == std::vector<int64_t>{3, 3, 1});
    std::vector<Tensor> g = grads();
    for (size_t i = 0; i < g.size(); ++i) {
      CHECK(bitwise_equal(g[i], ref[i]));
      CHECK(max_abs_diff(g[i], full_grads[i]) > 1e-9);  // truncation really changed the gradient
    }
    // State values carry exactly: the same final state as the full unroll.
    CHECK(bitwise_equal(fin.h, full_final.h));
    CHECK(bitwise_equal(fin.c, carried.c));
    CHECK(bitwise_equal(fin.c, full_final.c));
  }
  SECTION("Recurrent stack carries every layer's state") {
    Rng init_rng(44);
    Recurrent rnn(cell_factory<Gru>(), 3, 2, init_rng, {.num_layers = 2, .bidirectional = false});
    rnn.to(DType::f64);
    Tape t1;
    Rng r1(0);
    RecurrentResult whole = rnn(t1.constant(x), r1);
    Tape tape;
    Rng r2(0);
    int64_t chunks = 0;
    std::vector<StateValues> fin = truncated_bptt(
        tape, rnn, T, 2, [&](Tape& t, int64_t s, int64_t e) { return slice(t.constant(x), 1, s, e); },
        [&](const RecurrentResult&, int64_t) {
          ++chunks;
          tape.reset();
        },
        r2);
    CHECK(chunks == 4);
    REQUIRE(fin.size() == 2);
    for (size_t i = 0; i < 2; ++i) CHECK(bitwise_equal(fin[i].h, whole.final[i].h.value()));
  }
}

TEST_CASE("GradientProbe: ||dL/dh_k|| = w^(T-k) for h_t = w h_(t-1) + x_t", "[nn][recurrent]") {
  const int64_t T = 50;
  for (double w : {0.9, 1.1}) {
    ScalarLinear cell(w);
    cell.to(DType::f64);
    Tape tape;
    Var x = tape.variable(random_normal({1, T, 1}, 50));
    Var h0 = tape.variable(Tensor::zeros({1, 1}, DType::f64));
    UnrollResult r = unroll(cell, x, {h0, Var()});
    GradientProbe probe(r);
    tape.backward(sum(r.final.h));
    REQUIRE(probe.h_norms().size() == size_t(T));
    CHECK(probe.c_norms().empty());
    // h[t] is h_k with k = t + 1 (h_0 is the initial state).
    for (int64_t t = 0; t < T; ++t)
      CHECK(probe.h_norms()[size_t(t)] == Approx(std::pow(w, double(T - 1 - t))).epsilon(1e-12));
    CHECK(h0.grad().item() == Approx(std::pow(w, double(T))).epsilon(1e-12));
  }
  CHECK(std::pow(0.9, 50) == Approx(0.00515377520732012));
  CHECK(std::pow(1.1, 50) == Approx(117.390852879695));
}

TEST_CASE("GradientProbe: LSTM h and c norms match retained gradients, also with lengths", "[nn][recurrent]") {
  Rng rng(60);
  Lstm cell(2, 3, rng);
  cell.to(DType::f64);
  Tape tape;
  Var x = tape.variable(random_normal({2, 6, 2}, 61));
  const std::vector<int64_t> lengths{6, 4};
  UnrollResult r = unroll(cell, x, {}, {.lengths = lengths, .reverse = true});
  for (const Var& v : r.h) v.retain_grad();
  for (const Var& v : r.c) v.retain_grad();
  GradientProbe probe(r);
  tape.backward(project(r.output, 62));
  REQUIRE(probe.c_norms().size() == 6);
  for (size_t t = 0; t < 6; ++t) {
    auto norm = [](const Tensor& g) {
      double s = 0;
      for (double v : g.to_vector()) s += v * v;
      return std::sqrt(s);
    };
    CHECK(probe.h_norms()[t] == Approx(norm(r.h[t].grad())).epsilon(1e-14));
    CHECK(probe.c_norms()[t] == Approx(norm(r.c[t].grad())).epsilon(1e-14));
    CHECK(probe.h_norms()[t] > 0);
  }
}

TEST_CASE("recurrent wrappers: bad input throws naming the problem", "[nn][recurrent]") {
  Rng rng(70);
  Elman cell(3, 4, rng);
  Tape tape;
  Var x = tape.constant(Tensor::zeros({2, 5, 3}));
  const std::vector<int64_t> too_long{5, 6}, zero{0, 5}, three{5, 5, 5};
  REQUIRE_THROWS_NAMING(unroll(cell, x, {}, {.lengths = too_long}), "unroll", "lengths[1] = 6", "1..T = 5");
  REQUIRE_THROWS_NAMING(unroll(cell, x, {}, {.lengths = zero}), "unroll", "lengths[0] = 0");
  REQUIRE_THROWS_NAMING(unroll(cell, x, {}, {.lengths = three}), "unroll", "3 lengths for a batch of 2");
  REQUIRE_THROWS_NAMING(unroll(cell, tape.constant(Tensor::zeros({2, 3}))), "unroll", "(B, T, F)", "(2, 3)");
  REQUIRE_THROWS_NAMING(unroll(cell, tape.constant(Tensor::zeros({2, 5, 4}))), "unroll", "cell 'Elman'",
                        "expects input features 3", "(2, 5, 4)");
  REQUIRE_THROWS_NAMING(unroll(cell, x, {tape.constant(Tensor::zeros({3, 4})), Var()}), "unroll", "initial h", "(3, 4)",
                        "(2, 4)");
  REQUIRE_THROWS_NAMING(unroll(cell, x, {}, {.regularization = {.state_dropout = 0.5}}), "unroll", "Rng");
  REQUIRE_THROWS_NAMING(unroll(cell, x, {}, {.regularization = {.input_dropout = 1.0}, .rng = &rng}), "input_dropout");
  Lstm lstm(3, 4, rng);
  REQUIRE_THROWS_NAMING(unroll(lstm, x, {tape.constant(Tensor::zeros({2, 4})), Var()}), "unroll", "initial c");

  Recurrent rnn(cell_factory<Elman>(), 3, 4, rng, {.num_layers = 2});
  State one[1] = {cell.zero_state(tape, 2)};
  REQUIRE_THROWS_NAMING(rnn(x, rng, one), "Recurrent", "1 initial states", "need 2");
  REQUIRE_THROWS_NAMING(rnn(tape.constant(Tensor::zeros({2, 5, 2})), rng), "Recurrent", "(B, T, 3)", "(2, 5, 2)");
  REQUIRE_THROWS_NAMING(Recurrent(cell_factory<Elman>(), 3, 4, rng, {.num_layers = 0}), "Recurrent", "num_layers");
  REQUIRE_THROWS_NAMING(rnn.cell(0, true), "Recurrent::cell", "reverse");
  REQUIRE_THROWS_NAMING(truncated_bptt(tape, cell, Tensor::zeros({2, 5, 3}), 0, [](const UnrollResult&, int64_t) {}),
                        "truncated_bptt", "k must be >= 1");
  NoGradGuard no_grad;
  UnrollResult r = unroll(cell, tape.variable(Tensor::zeros({2, 5, 3})));
  REQUIRE_THROWS_NAMING(GradientProbe(r), "GradientProbe", "h_0", "does not require grad");
}

TEST_CASE("Recurrent: forward without an Rng when nothing is drawn", "[nn][recurrent]") {
  Rng rng(90);
  Tape tape;
  Var x = tape.constant(random_normal({2, 5, 3}, 91));
  auto same = [](const Var& a, const Var& b) { return a.value().to_vector() == b.value().to_vector(); };

  Recurrent plain(cell_factory<Lstm>(), 3, 4, rng, {.num_layers = 2, .bidirectional = true});
  plain.to(DType::f64);
  Rng unused(92);
  RecurrentResult with_rng = plain(x, unused), without = plain(x);
  CHECK(same(with_rng.output, without.output));
  CHECK(unused.next_u64() == Rng(92).next_u64());  // and the Rng was not drawn from
  std::vector<State> initial(4, {tape.constant(random_normal({2, 4}, 93)), tape.constant(random_normal({2, 4}, 94))});
  const std::vector<int64_t> lengths{5, 3};
  CHECK(same(plain.forward(x, initial, lengths).output, plain.forward(x, unused, initial, lengths).output));
  CHECK_FALSE(plain.needs_rng());
  CHECK_FALSE(Recurrent(cell_factory<Elman>(), 3, 4, rng, {.dropout = 0.5}).needs_rng());  // one layer: no dropout

  // Dropout and regularisation draw masks while training: an Rng is required, in eval mode not.
  Recurrent dropped(cell_factory<Gru>(), 3, 4, rng, {.num_layers = 2, .dropout = 0.5});
  Recurrent zoned(cell_factory<Lstm>(), 3, 4, rng, {.regularization = {.zoneout_c = 0.3}});
  for (Recurrent* r : {&dropped, &zoned}) {
    r->to(DType::f64);
    CHECK(r->needs_rng());
    REQUIRE_THROWS_NAMING(r->forward(x), "Recurrent", "call forward(x, rng", "or eval() first");
    r->eval();
    CHECK_FALSE(r->needs_rng());
    CHECK(same((*r)(x).output, (*r)(x, unused).output));
  }
}
