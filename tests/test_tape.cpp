// The tape's contract: reverse loop without recursion, accumulation on fan-out, reset semantics,
// no-grad, detach, retain_graph, hooks, bound parameters, one tape per thread, steady-state memory.
#include <thread>

#include "autograd/kernels.h"

#include "testing.h"

using namespace seqgrad;
using seqgrad::testing::random_normal;

TEST_CASE("backward through a 100,000-node chain does not recurse", "[tape]") {
  Tape tape(200'010);
  Var x = tape.variable(Tensor::full({1}, 0.5, DType::f64));
  Var h = x;
  for (int i = 0; i < 100'000; ++i) h = h * 1.0 + 0.0;  // 2 nodes a step: 200,000 nodes
  tape.backward(sum(h));
  REQUIRE(x.grad().item() == 1.0);
}

TEST_CASE("fan-out accumulates into the shared input", "[tape]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({3}, {1, 2, 3}, DType::f64));
  Var y = sum(x * x + x * 3.0 + x);  // dy/dx = 2x + 4
  tape.backward(y);
  CHECK(x.grad().to_vector() == std::vector<double>{6, 8, 10});
}

TEST_CASE("reset keeps capacity and invalidates every Var", "[tape]") {
  Tape tape(4);
  Var x = tape.variable(Tensor::ones({2}));
  for (int i = 0; i < 100; ++i) x = x + 1.0;
  tape.reset();
  CHECK(tape.size() == 0);
  REQUIRE_THROWS_NAMING(x.value(), "used after its tape was reset");
  REQUIRE_THROWS_NAMING(x + 1.0, "used after its tape was reset");
  Var fresh = tape.variable(Tensor::ones({2}));
  CHECK(fresh.value().numel() == 2);
}

TEST_CASE("Vars of different tapes cannot be mixed", "[tape]") {
  Tape a, b;
  Var x = a.variable(Tensor::ones({2})), y = b.variable(Tensor::ones({2}));
  REQUIRE_THROWS_NAMING(x + y, "add", "different tapes");
  REQUIRE_THROWS_NAMING(a.node(y), "another tape");
  REQUIRE_THROWS_NAMING(Var().value(), "default-constructed");
}

TEST_CASE("NoGradGuard records no backward", "[tape]") {
  Tape tape;
  Var x = tape.variable(Tensor::ones({2}));
  Var y;
  {
    NoGradGuard guard;
    CHECK_FALSE(grad_enabled());
    y = x * 2.0;
  }
  CHECK(grad_enabled());
  CHECK_FALSE(y.requires_grad());
  REQUIRE_THROWS_NAMING(tape.backward(sum(y)), "does not require grad");
}

TEST_CASE("detach stops the gradient but shares the value", "[tape]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({2}, {1, 2}, DType::f64));
  Var d = detach(x * 3.0);
  CHECK_FALSE(d.requires_grad());
  Var y = sum(x * d);  // d treated as a constant 3x
  tape.backward(y);
  CHECK(x.grad().to_vector() == std::vector<double>{3, 6});
}

TEST_CASE("a second backward needs retain_graph, and then accumulates", "[tape]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({2}, {1, 2}, DType::f64));
  Var y = sum(tanh(x) * x);
  tape.backward(y, /*retain_graph=*/true);
  std::vector<double> once = x.grad().to_vector();
  tape.backward(y);
  std::vector<double> twice = x.grad().to_vector();
  for (size_t i = 0; i < once.size(); ++i) CHECK(twice[i] == Approx(2 * once[i]).epsilon(1e-15));
  REQUIRE_THROWS_NAMING(tape.backward(y), "retain_graph");
}

TEST_CASE("gradients with respect to any input, and of retained intermediates", "[tape]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({2}, {0.5, -1.0}, DType::f64));
  Var h = tanh(x);
  h.retain_grad();
  Var other = x * 2.0;
  tape.backward(sum(h * 3.0));
  CHECK(h.grad().to_vector() == std::vector<double>{3, 3});
  CHECK(x.grad().at({0}) == Approx(3 * (1 - std::tanh(0.5) * std::tanh(0.5))));
  REQUIRE_THROWS_NAMING(other.grad(), "not a leaf", "retain_grad");
}

TEST_CASE("hooks see each Var's complete gradient and may change it", "[tape]") {
  Tape tape;
  Var x = tape.variable(Tensor::ones({3}, DType::f64));
  std::vector<double> seen;
  Var h = x * 2.0;
  h.register_hook([&](Tensor& g) {
    seen = g.to_vector();
    g.fill(10.0);  // replaces what flows on to x
  });
  Var y = sum(h * 3.0 + h);  // dL/dh = 4 from two consumers
  tape.backward(y);
  CHECK(seen == std::vector<double>{4, 4, 4});
  CHECK(x.grad().to_vector() == std::vector<double>{20, 20, 20});
  Var c = tape.constant(Tensor::ones({1}));
  REQUIRE_THROWS_NAMING(c.register_hook([](Tensor&) {}), "does not require grad");
}

TEST_CASE("bound parameters accumulate into persistent storage across tapes", "[tape]") {
  Tensor w = Tensor::from({2}, {1.0, 2.0}, DType::f64), w_grad;
  for (int step = 0; step < 2; ++step) {
    Tape tape;
    Var wv = tape.bind(w, w_grad);
    CHECK(wv.value().shares_storage(w));
    tape.backward(sum(wv * wv));
  }
  CHECK(w_grad.to_vector() == std::vector<double>{4.0, 8.0});  // 2w, twice
}

TEST_CASE("backward of a non-scalar needs a seed of its shape", "[tape]") {
  Tape tape;
  Var x = tape.variable(Tensor::ones({2, 2}, DType::f64));
  Var y = x * 3.0;
  REQUIRE_THROWS_NAMING(tape.backward(y), "not a scalar", "(2, 2)");
  REQUIRE_THROWS_NAMING(tape.backward(y, Tensor::ones({3}, DType::f64)), "seed", "(3)");
  tape.backward(y, Tensor::full({2, 2}, 2.0, DType::f64));
  CHECK(x.grad().to_vector() == std::vector<double>(4, 6.0));
}

// A small recurrent step used by the thread and memory tests: h = tanh(x·Wᵀ + h·Uᵀ + b).
static Tensor train_steps(uint64_t seed, int steps) {
  Rng rng(seed);
  Tensor W = Tensor::normal({8, 4}, rng, 0, 0.5), U = Tensor::normal({8, 8}, rng, 0, 0.5), b = Tensor::zeros({8});
  Tensor gW, gU, gb;
  Tape tape;
  for (int s = 0; s < steps; ++s) {
    tape.reset();
    Var w = tape.bind(W, gW), u = tape.bind(U, gU), bias = tape.bind(b, gb);
    Var h = tape.constant(Tensor::zeros({3, 8}));
    for (int t = 0; t < 5; ++t) h = tanh(affine(tape.constant(Tensor::normal({3, 4}, rng)), w, h, u, bias));
    tape.backward(mean(h * h));
  }
  return gW;
}

TEST_CASE("independent tapes train in parallel threads", "[tape][threads]") {
  Tensor expected_a = train_steps(1, 3), expected_b = train_steps(2, 3);
  Tensor got_a, got_b;
  std::thread ta([&] { got_a = train_steps(1, 3); });
  std::thread tb([&] { got_b = train_steps(2, 3); });
  ta.join();
  tb.join();
  CHECK(bitwise_equal(got_a, expected_a));
  CHECK(bitwise_equal(got_b, expected_b));
}

TEST_CASE("a steady-state training step allocates no new memory", "[tape][memory]") {
  Rng rng(5);
  Tensor W = Tensor::normal({16, 16}, rng), gW;
  Tensor x = Tensor::normal({4, 16}, rng);
  Tape tape;
  auto step = [&] {
    tape.reset();
    Var w = tape.bind(W, gW);
    Var h = tape.constant(x);
    for (int t = 0; t < 10; ++t) h = sigmoid(affine(h, w, Var())) * 2.0 - 1.0;
    tape.backward(sum(h));
  };
  step();
  step();
  const int64_t fresh = memory_stats().fresh;
  for (int i = 0; i < 5; ++i) step();
  CHECK(memory_stats().fresh == fresh);
  CHECK(memory_stats().reused > 0);
}

TEST_CASE("gradcheck catches a wrong backward and says where", "[tape][gradcheck]") {
  // A user-defined op recorded directly on the tape: y = x², with a deliberately wrong dx = 3x·g.
  auto bad_square = [](const Var& x) {
    Tensor y = kernels::map(x.value(), [](auto v) { return v * v; });
    return x.tape().record("bad_square", std::move(y), {x}, [x](GradContext& g) {
      g.accumulate(x, kernels::map2(g.out(), x.value(), [](auto gy, auto v) { return 3 * v * gy; }));
    });
  };
  Tensor x = Tensor::from({3}, {0.5, -1.0, 2.0}, DType::f64);
  GradcheckResult r = gradcheck([&](std::span<const Var> v) { return bad_square(v[0]); }, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.input == 0);
  CHECK(r.element == 2);  // the largest |x| has the largest error
  CHECK(r.analytic == Approx(3 * 2.0 * r.numeric / (2 * 2.0)));
  CHECK(r.str().find("FAILED") != std::string::npos);
  // The correct op passes, and float32 inputs are checked in float64.
  REQUIRE_GRADCHECK([](std::span<const Var> v) { return v[0] * v[0]; }, {x.to(DType::f32)});
}
