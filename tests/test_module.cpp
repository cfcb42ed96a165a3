// Parameters, modules, layers and initialisers.
#include <cmath>

#include "nn/cells.h"
#include "nn/init.h"
#include "nn/layers.h"
#include "testing.h"

using namespace seqgrad;
using namespace seqgrad::nn;
using seqgrad::testing::random_normal;

namespace {

struct Encoder : Module {
  Embedding embed;
  Elman rnn;
  Encoder(Rng& rng) : embed(10, 3, rng), rnn(3, 4, rng) {
    register_module("embed", embed);
    register_module("rnn", rnn);
  }
};

struct Model : Module {
  Encoder encoder;
  Linear head;
  Dropout drop{0.5};
  Model(Rng& rng) : encoder(rng), head(4, 2, rng) {
    register_module("encoder", encoder);
    register_module("head", head);
    register_module("drop", drop);
  }
};

}  // namespace

TEST_CASE("modules name their parameters hierarchically, in registration order", "[nn][module]") {
  Rng rng(1);
  Model m(rng);
  std::vector<std::string> names;
  for (auto& [name, p] : m.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"encoder.embed.weight", "encoder.rnn.weight_ih", "encoder.rnn.weight_hh",
                                          "encoder.rnn.bias", "head.weight", "head.bias"});
  CHECK(m.num_parameters() == 10 * 3 + (4 * 3 + 4 * 4 + 4) + (2 * 4 + 2));
  CHECK(m.parameters().size() == 6);
}

TEST_CASE("train/eval propagate, zero_grad zeroes in place, to() converts", "[nn][module]") {
  Rng rng(2);
  Model m(rng);
  m.eval();
  CHECK_FALSE(m.drop.training());
  CHECK_FALSE(m.encoder.rnn.training());
  m.train();
  CHECK(m.drop.training());

  Tape tape;
  Var x = tape.constant(Tensor::ones({2, 4}));
  tape.backward(sum(m.head(x)));
  Tensor g = m.head.weight.grad;
  CHECK(g.to_vector() == std::vector<double>(8, 2.0));
  m.zero_grad();
  CHECK(m.head.weight.grad.shares_storage(g));  // zeroed in place
  CHECK(g.to_vector() == std::vector<double>(8, 0.0));

  m.to(DType::f64);
  for (Parameter* p : m.parameters()) CHECK(p->value.dtype() == DType::f64);
  CHECK(m.encoder.rnn.dtype() == DType::f64);  // a nested cell's own override runs too
  Tape t64;
  CHECK(m.encoder.rnn.zero_state(t64, 2).h.dtype() == DType::f64);
}

TEST_CASE("a parameter binds once per tape and accumulates every use", "[nn][module]") {
  Rng rng(3);
  Linear fc(3, 2, rng);
  Tape tape;
  Var a = fc.weight.var(tape), b = fc.weight.var(tape);
  CHECK(a.index() == b.index());
  const size_t nodes = tape.size();
  Var x = tape.constant(Tensor::ones({1, 3}));
  tape.backward(sum(fc(x) + fc(x)));  // two uses, one leaf
  CHECK(fc.weight.grad.to_vector() == std::vector<double>(6, 2.0));
  CHECK(tape.size() > nodes);
  tape.reset();
  Var c = fc.weight.var(tape);  // a new generation binds again
  CHECK(c.value().shares_storage(fc.weight.value));
}

TEST_CASE("registration errors name the problem", "[nn][module]") {
  struct Bad : Module {
    Parameter p;
    explicit Bad(const std::string& name) { register_parameter(name, p); }
    void twice() { register_parameter("w", p); }
  };
  REQUIRE_THROWS_NAMING(Bad("a.b"), "parameter name 'a.b'");
  REQUIRE_THROWS_NAMING(Bad(""), "non-empty");
  Bad ok("w");
  REQUIRE_THROWS_NAMING(ok.twice(), "'w' registered twice");
}

TEST_CASE("Linear is an affine map on 2-D and 3-D inputs, gradchecked", "[nn][layers]") {
  Rng rng(4);
  Linear fc(3, 2, rng);
  fc.to(DType::f64);
  Tensor x = random_normal({2, 5, 3});
  Tape tape;
  Var y = fc(tape.constant(x));
  REQUIRE(y.shape() == Shape{2, 5, 2});
  const double expected = fc.bias.value.at({1}) + fc.weight.value.at({1, 0}) * x.at({1, 4, 0}) +
                          fc.weight.value.at({1, 1}) * x.at({1, 4, 1}) + fc.weight.value.at({1, 2}) * x.at({1, 4, 2});
  CHECK(y.value().at({1, 4, 1}) == Approx(expected).epsilon(1e-14));
  // Gradcheck with respect to the input and, through fresh leaves, the weights.
  REQUIRE_GRADCHECK(
      [](std::span<const Var> v) {
        return tanh(affine(reshape(v[0], {10, 3}), v[1], v[2]));
      },
      {x, fc.weight.value, fc.bias.value});
  REQUIRE_THROWS_NAMING(Linear(0, 2, rng), "Linear", "in_features", "0");
  Linear no_bias(3, 2, rng, /*bias=*/false);
  CHECK(no_bias.num_parameters() == 6);
}

TEST_CASE("Embedding looks up rows and accumulates repeated ids", "[nn][layers]") {
  Rng rng(5);
  Embedding embed(6, 2, rng);
  Tape tape;
  std::vector<int64_t> ids = {1, 4, 1, 0};
  Var e = embed(tape, ids, Shape{2, 2});
  REQUIRE(e.shape() == Shape{2, 2, 2});
  CHECK(e.value().at({1, 0, 1}) == embed.weight.value.at({1, 1}));
  tape.backward(sum(e));
  CHECK(embed.weight.grad.at({1, 0}) == 2.0);
  CHECK(embed.weight.grad.at({2, 0}) == 0.0);
  std::vector<int64_t> bad = {7};
  REQUIRE_THROWS_NAMING(embed(tape, bad, Shape{1}), "index_select", "7");
  REQUIRE_THROWS_NAMING(embed(tape, ids, Shape{3}), "Embedding", "4 ids", "(3)");
}

TEST_CASE("Dropout is active in training only", "[nn][layers]") {
  Dropout drop(0.5);
  Rng rng(6);
  Tape tape;
  Var x = tape.constant(Tensor::ones({1000}));
  Var y = drop(x, rng);
  double kept = 0;
  for (double v : y.value().to_vector()) kept += v != 0;
  CHECK(kept / 1000 == Approx(0.5).margin(0.06));
  drop.eval();
  CHECK(drop(x, rng).index() == x.index());
  REQUIRE_THROWS_NAMING(Dropout(1.0), "Dropout", "p");
}

TEST_CASE("LayerNorm normalises the last axis, gradchecked", "[nn][layers]") {
  LayerNorm norm(4);
  norm.to(DType::f64);
  Tensor x = random_normal({3, 4}, 8);
  Tape tape;
  Tensor y = norm(tape.constant(x)).value();
  for (int64_t r = 0; r < 3; ++r) {
    double m = 0, v = 0;
    for (int64_t c = 0; c < 4; ++c) m += y.at({r, c}) / 4;
    for (int64_t c = 0; c < 4; ++c) v += (y.at({r, c}) - m) * (y.at({r, c}) - m) / 4;
    CHECK(m == Approx(0).margin(1e-12));
    CHECK(v == Approx(1).epsilon(1e-4));  // eps = 1e-5 in the denominator
  }
  Tensor gain = random_normal({4}, 9), shift = random_normal({4}, 10);
  REQUIRE_GRADCHECK(
      [](std::span<const Var> v) {
        Var c = v[0] - mean(v[0], -1, true);
        return c / sqrt(mean(c * c, -1, true) + 1e-5) * v[1] + v[2];
      },
      {x, gain, shift});
  REQUIRE_THROWS_NAMING(norm(tape.constant(Tensor::ones({2, 3}, DType::f64))), "LayerNorm", "(2, 3)", "4 features");
}

TEST_CASE("initialisers: bounds, orthogonality, identity, determinism", "[nn][init]") {
  Rng rng(11);
  Tensor w = Tensor::zeros({64, 32});
  init::xavier_uniform(w, rng);
  const double a = std::sqrt(6.0 / 96.0);
  for (double v : w.to_vector()) REQUIRE(std::abs(v) <= a);

  for (auto shape : {Shape{8, 5}, Shape{5, 8}, Shape{6, 6}}) {
    Tensor q = Tensor::zeros(shape, DType::f64);
    init::orthogonal(q, rng, 2.0);
    const bool tall = shape[0] >= shape[1];
    const int64_t k = tall ? shape[1] : shape[0], n = tall ? shape[0] : shape[1];
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) {
        double dot = 0;
        for (int64_t r = 0; r < n; ++r) dot += tall ? q.at({r, i}) * q.at({r, j}) : q.at({i, r}) * q.at({j, r});
        CHECK(dot == Approx(i == j ? 4.0 : 0.0).margin(1e-12));  // gain² on the diagonal
      }
  }

  Tensor eye = Tensor::zeros({3, 3});
  init::identity(eye, 0.5);
  CHECK(eye.to_vector() == std::vector<double>{0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5});
  Tensor not_square = Tensor::zeros({2, 3});
  REQUIRE_THROWS_NAMING(init::identity(not_square), "identity", "(2, 3)");

  Rng r1(42), r2(42);
  Tensor u1 = Tensor::zeros({5}), u2 = Tensor::zeros({5});
  init::uniform(u1, r1, -1, 1);
  init::uniform(u2, r2, -1, 1);
  CHECK(bitwise_equal(u1, u2));
}

TEST_CASE("Parameter::use makes a given Var the parameter for one tape generation", "[nn][module]") {
  Rng rng(12);
  Linear fc(2, 2, rng, /*bias=*/false);
  Tape tape;
  Var tied = tape.variable(Tensor::ones({2, 2}));
  fc.weight.use(tied);
  Var y = fc(tape.constant(Tensor::from({1, 2}, {1, 2})));
  CHECK(y.value().to_vector() == std::vector<double>{3, 3});  // read the tied value
  tape.backward(sum(y));
  CHECK(tied.grad().to_vector() == std::vector<double>{1, 2, 1, 2});  // gradient flowed into it
  CHECK_FALSE(fc.weight.grad.defined());
  tape.reset();
  CHECK(fc.weight.var(tape).value().shares_storage(fc.weight.value));  // a new generation binds again
  REQUIRE_THROWS_NAMING(fc.weight.use(tape.variable(Tensor::ones({3}))), "Parameter::use", "(3)", "(2, 2)");
}
