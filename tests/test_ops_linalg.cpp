// matmul and affine: gradchecks (variables and constants), golden values against hand loops on the
// direct and the blocked GEMM paths, fan-out accumulation, and error messages.
#include "testing.h"

using namespace seqgrad;
using seqgrad::testing::random_normal;

namespace {

// C = A·B by a triple loop in double, per batch when 3-D.
Tensor matmul_ref(const Tensor& a, const Tensor& b) {
  const bool batched = a.rank() == 3;
  const int64_t batch = batched ? a.size(0) : 1, M = a.size(-2), K = a.size(-1), N = b.size(-1);
  std::vector<double> va = a.to_vector(), vb = b.to_vector(), out;
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += va[size_t((p * M + i) * K + k)] * vb[size_t((p * K + k) * N + j)];
        out.push_back(acc);
      }
  return Tensor::from(batched ? Shape{batch, M, N} : Shape{M, N}, out, DType::f64);
}

// y = b + Σ xᵢ·Wᵢᵀ by hand.
Tensor affine_ref(const std::vector<std::pair<Tensor, Tensor>>& terms, const Tensor* b) {
  const int64_t B = terms[0].first.size(0), O = terms[0].second.size(0);
  Tensor y = Tensor::zeros({B, O}, DType::f64);
  for (int64_t r = 0; r < B; ++r)
    for (int64_t o = 0; o < O; ++o) {
      double acc = b ? b->at({o}) : 0.0;
      for (const auto& [x, W] : terms)
        for (int64_t i = 0; i < x.size(1); ++i) acc += x.at({r, i}) * W.at({o, i});
      y.set({r, o}, acc);
    }
  return y;
}

}  // namespace

// ---- matmul ----------------------------------------------------------------------------------

TEST_CASE("matmul: golden values against a hand loop, 2-D and batched", "[ops][linalg]") {
  Tape tape;
  // Tiny (direct loop) and larger (packed, blocked) shapes, both dtypes.
  for (auto [M, K, N] : std::initializer_list<std::array<int64_t, 3>>{{2, 3, 4}, {40, 50, 30}}) {
    Tensor a = random_normal({M, K}, 1), b = random_normal({K, N}, 2);
    Tensor y = matmul(tape.constant(a), tape.constant(b)).value();
    REQUIRE(max_abs_diff(y, matmul_ref(a, b)) < 1e-12);
    Tensor y32 = matmul(tape.constant(a.to(DType::f32)), tape.constant(b.to(DType::f32))).value();
    REQUIRE(y32.dtype() == DType::f32);
    REQUIRE(max_abs_diff(y32.to(DType::f64), matmul_ref(a, b)) < 1e-4);

    Tensor ab = random_normal({3, M, K}, 3), bb = random_normal({3, K, N}, 4);
    Tensor yb = matmul(tape.constant(ab), tape.constant(bb)).value();
    REQUIRE(yb.shape() == Shape{3, M, N});
    REQUIRE(max_abs_diff(yb, matmul_ref(ab, bb)) < 1e-12);
  }
  Var m = tape.constant(Tensor::from({2, 2}, {1, 2, 3, 4}));
  REQUIRE(matmul(m, m).value().to_vector() == std::vector<double>{7, 10, 15, 22});
  // An empty inner dimension gives zeros (C is overwritten, never read).
  Tensor z = matmul(tape.constant(Tensor::zeros({2, 0})), tape.constant(Tensor::zeros({0, 3}))).value();
  REQUIRE(z.shape() == Shape{2, 3});
  for (double v : z.to_vector()) REQUIRE(v == 0.0);
}

TEST_CASE("matmul: gradcheck 2-D, batched, and with a constant operand", "[ops][linalg]") {
  auto f = [](std::span<const Var> v) { return matmul(v[0], v[1]); };
  REQUIRE_GRADCHECK(f, {random_normal({3, 4}, 1), random_normal({4, 5}, 2)});
  REQUIRE_GRADCHECK(f, {random_normal({2, 3, 4}, 3), random_normal({2, 4, 5}, 4)});
  auto square = [](std::span<const Var> v) { return matmul(v[0], v[0]); };
  REQUIRE_GRADCHECK(square, {random_normal({4, 4}, 5)});
  REQUIRE_GRADCHECK(square, {random_normal({2, 3, 3}, 6)});

  Tensor ka = random_normal({3, 4}, 7), kb = random_normal({2, 4, 5}, 8);
  auto const_left = [ka](std::span<const Var> v) { return matmul(v[0].tape().constant(ka), v[0]); };
  REQUIRE_GRADCHECK(const_left, {random_normal({4, 5}, 9)});
  auto const_right = [kb](std::span<const Var> v) { return matmul(v[0], v[0].tape().constant(kb)); };
  REQUIRE_GRADCHECK(const_right, {random_normal({2, 3, 4}, 10)});
}

TEST_CASE("matmul: a constant operand gets no gradient, a reused one accumulates", "[ops][linalg]") {
  Tape tape;
  Var a = tape.variable(Tensor::from({1, 2}, {1, 2}, DType::f64));
  Var b = tape.constant(Tensor::from({2, 1}, {3, 4}, DType::f64));
  Var y = matmul(a, b) + matmul(a, b);
  tape.backward(sum(y));
  REQUIRE(a.grad().to_vector() == std::vector<double>{6, 8});
  REQUIRE_FALSE(b.requires_grad());
}

TEST_CASE("matmul: errors name the op and the shapes", "[ops][linalg]") {
  Tape tape;
  auto v = [&](const Shape& s, DType d = DType::f32) { return tape.variable(Tensor::zeros(s, d)); };
  REQUIRE_THROWS_WITH(matmul(v({32, 128}), v({64, 256})), "matmul: (32, 128) x (64, 256): inner dimensions differ");
  REQUIRE_THROWS_WITH(matmul(v({2, 3, 4}), v({2, 5, 6})), "matmul: (2, 3, 4) x (2, 5, 6): inner dimensions differ");
  REQUIRE_THROWS_NAMING(matmul(v({2, 3, 4}), v({3, 4, 5})), "matmul", "(2, 3, 4) x (3, 4, 5)", "batch");
  REQUIRE_THROWS_NAMING(matmul(v({3, 4}), v({2, 4, 5})), "matmul", "(3, 4) x (2, 4, 5)", "2-D", "3-D");
  REQUIRE_THROWS_NAMING(matmul(v({4}), v({4, 5})), "matmul", "(4) x (4, 5)");
  REQUIRE_THROWS_NAMING(matmul(v({1, 2, 3, 4}), v({1, 2, 4, 5})), "matmul", "(1, 2, 3, 4)");
  REQUIRE_THROWS_NAMING(matmul(v({3, 4}), v({4, 5}, DType::f64)), "matmul", "f32 (3, 4)", "f64 (4, 5)");
}

// ---- affine ----------------------------------------------------------------------------------

TEST_CASE("affine: golden values for 1, 2 and 3 terms, with and without bias", "[ops][linalg]") {
  Tape tape;
  const int64_t B = 3, O = 4;
  // The middle term is large enough for the blocked GEMM path.
  const int64_t I[] = {2, 70, 5};
  std::vector<std::pair<Tensor, Tensor>> terms;
  std::vector<AffineTerm> vars;
  for (int t = 0; t < 3; ++t) {
    terms.emplace_back(random_normal({B, I[t]}, uint64_t(10 + t)), random_normal({O, I[t]}, uint64_t(20 + t)));
    vars.push_back({tape.constant(terms.back().first), tape.constant(terms.back().second)});
  }
  Tensor bias = random_normal({O}, 30);
  Var b = tape.constant(bias);
  for (size_t n = 1; n <= 3; ++n) {
    INFO(n << " terms");
    auto ts = std::span<const AffineTerm>(vars.data(), n);
    auto ref = std::vector<std::pair<Tensor, Tensor>>(terms.begin(), terms.begin() + long(n));
    REQUIRE(max_abs_diff(affine(ts, b).value(), affine_ref(ref, &bias)) < 1e-12);
    REQUIRE(max_abs_diff(affine(ts, Var()).value(), affine_ref(ref, nullptr)) < 1e-12);
  }
  // The inline overloads.
  REQUIRE(bitwise_equal(affine(vars[0].x, vars[0].W, b).value(), affine(std::span(vars.data(), 1), b).value()));
  REQUIRE(bitwise_equal(affine(vars[0].x, vars[0].W, vars[1].x, vars[1].W, b).value(),
                        affine(std::span(vars.data(), 2), b).value()));
  // Exact small case: x = [1, 2], W = [[1, 0], [0, 1], [1, 1]], b = [10, 20, 30].
  Var x = tape.constant(Tensor::from({1, 2}, {1, 2}));
  Var W = tape.constant(Tensor::from({3, 2}, {1, 0, 0, 1, 1, 1}));
  Var bb = tape.constant(Tensor::from({3}, {10, 20, 30}));
  REQUIRE(affine(x, W, bb).value().to_vector() == std::vector<double>{11, 22, 33});
}

TEST_CASE("affine: gradcheck for 1, 2 and 3 terms, with and without bias", "[ops][linalg]") {
  auto one = [](std::span<const Var> v) { return affine(v[0], v[1], v[2]); };
  REQUIRE_GRADCHECK(one, {random_normal({3, 4}, 1), random_normal({5, 4}, 2), random_normal({5}, 3)});
  auto one_nobias = [](std::span<const Var> v) { return affine(v[0], v[1], Var()); };
  REQUIRE_GRADCHECK(one_nobias, {random_normal({3, 4}, 1), random_normal({5, 4}, 2)});
  auto two = [](std::span<const Var> v) { return affine(v[0], v[1], v[2], v[3], v[4]); };
  REQUIRE_GRADCHECK(two, {random_normal({2, 3}, 4), random_normal({4, 3}, 5), random_normal({2, 4}, 6),
                          random_normal({4, 4}, 7), random_normal({4}, 8)});
  // Three terms take the heap-captured path.
  auto three = [](std::span<const Var> v) {
    AffineTerm t[] = {{v[0], v[1]}, {v[2], v[3]}, {v[4], v[5]}};
    return affine(t, v.size() > 6 ? v[6] : Var());
  };
  REQUIRE_GRADCHECK(
      three, {random_normal({2, 3}, 9), random_normal({4, 3}, 10), random_normal({2, 2}, 11), random_normal({4, 2}, 12),
              random_normal({2, 5}, 13), random_normal({4, 5}, 14), random_normal({4}, 15)});
  REQUIRE_GRADCHECK(three, {random_normal({2, 3}, 9), random_normal({4, 3}, 10), random_normal({2, 2}, 11),
                            random_normal({4, 2}, 12), random_normal({2, 5}, 13), random_normal({4, 5}, 14)});
}

TEST_CASE("affine: inputs as constants get no gradient, the others gradcheck", "[ops][linalg]") {
  // Only the weights are variables (x, h, b constants), as for a frozen input sequence...
  Tensor x = random_normal({2, 3}, 1), h = random_normal({2, 4}, 2), b = random_normal({4}, 3);
  auto weights_only = [x, h, b](std::span<const Var> v) {
    Tape& t = v[0].tape();
    return affine(t.constant(x), v[0], t.constant(h), v[1], t.constant(b));
  };
  REQUIRE_GRADCHECK(weights_only, {random_normal({4, 3}, 4), random_normal({4, 4}, 5)});
  // ...only the inputs, as for frozen weights (three terms, heap path)...
  Tensor W = random_normal({4, 3}, 6), U = random_normal({4, 4}, 7), V = random_normal({4, 2}, 8);
  auto inputs_only = [W, U, V](std::span<const Var> v) {
    Tape& t = v[0].tape();
    AffineTerm terms[] = {{v[0], t.constant(W)}, {v[1], t.constant(U)}, {v[2], t.constant(V)}};
    return affine(terms, v[3]);
  };
  REQUIRE_GRADCHECK(inputs_only, {random_normal({2, 3}, 9), random_normal({2, 4}, 10), random_normal({2, 2}, 11),
                                  random_normal({4}, 12)});
  // ...and only the bias.
  auto bias_only = [x, W](std::span<const Var> v) {
    Tape& t = v[0].tape();
    return affine(t.constant(x), t.constant(W), v[0]);
  };
  REQUIRE_GRADCHECK(bias_only, {random_normal({4}, 13)});

  Tape tape;
  Var cx = tape.constant(x), cW = tape.constant(W), vb = tape.variable(b);
  Var y = affine(cx, cW, vb);
  REQUIRE(y.requires_grad());
  tape.backward(sum(y));
  REQUIRE(vb.grad().to_vector() == std::vector<double>{2, 2, 2, 2});  // B = 2 rows
  REQUIRE_FALSE(affine(cx, cW, Var()).requires_grad());
}

TEST_CASE("affine: the same W in two calls (and two terms) accumulates", "[ops][linalg]") {
  Tape tape;
  Tensor x1 = Tensor::from({1, 2}, {1, 2}, DType::f64), x2 = Tensor::from({1, 2}, {3, 5}, DType::f64);
  Var W = tape.variable(Tensor::zeros({3, 2}, DType::f64));
  Var a = tape.constant(x1), c = tape.constant(x2);
  Var y = affine(a, W, Var()) + affine(c, W, Var());
  tape.backward(sum(y));
  // dW[o, :] = x1 + x2 for every output row.
  REQUIRE(W.grad().to_vector() == std::vector<double>{4, 7, 4, 7, 4, 7});

  Tape t2;
  Var W2 = t2.variable(Tensor::zeros({3, 2}, DType::f64));
  Var a2 = t2.constant(x1), c2 = t2.constant(x2);
  t2.backward(sum(affine(a2, W2, c2, W2, Var())));
  REQUIRE(W2.grad().to_vector() == std::vector<double>{4, 7, 4, 7, 4, 7});

  // As a recurrence would: h feeds back through the same U twice.
  auto rnn = [](std::span<const Var> v) {
    Var h = tanh(affine(v[0], v[1], v[2]));
    h = tanh(affine(v[0], v[1], h, v[3], v[2]));
    return tanh(affine(v[0], v[1], h, v[3], v[2]));
  };
  REQUIRE_GRADCHECK(
      rnn, {random_normal({2, 3}, 1), random_normal({4, 3}, 2), random_normal({4}, 3), random_normal({4, 4}, 4)});
}

TEST_CASE("affine: errors name the op and the shapes", "[ops][linalg]") {
  Tape tape;
  auto v = [&](const Shape& s, DType d = DType::f32) { return tape.variable(Tensor::zeros(s, d)); };
  Var x = v({2, 3}), W = v({4, 3}), h = v({2, 5}), U = v({4, 5}), b = v({4});
  REQUIRE_NOTHROW(affine(x, W, h, U, b));
  REQUIRE_THROWS_NAMING(affine(x, W, v({3})), "affine", "bias (3)", "(4)");
  REQUIRE_THROWS_NAMING(affine(x, W, v({1, 4})), "affine", "bias (1, 4)", "(4)");
  REQUIRE_THROWS_NAMING(affine(x, v({4, 2}), b), "affine", "(2, 3)", "(4, 2)");                      // I differs
  REQUIRE_THROWS_NAMING(affine(x, W, v({3, 5}), U, b), "affine", "(3, 5)", "first term, x (2, 3)");  // B differs
  REQUIRE_THROWS_NAMING(affine(x, W, h, v({6, 5}), b), "affine", "(6, 5)", "W (4, 3)");              // O differs
  REQUIRE_THROWS_NAMING(affine(v({3}), v({4, 3}), b), "affine", "(3)", "(4, 3)");                    // rank
  REQUIRE_THROWS_NAMING(affine(x, v({4, 3}, DType::f64), b), "affine", "f32 (2, 3)", "f64 (4, 3)");
  REQUIRE_THROWS_NAMING(affine(x, W, v({4}, DType::f64)), "affine", "f64 (4)");
  REQUIRE_THROWS_NAMING(affine(std::span<const AffineTerm>(), b), "affine", "at least one");
  REQUIRE_THROWS_NAMING(affine(x, W, v({2, 5}, DType::f64), v({4, 5}, DType::f64), Var()), "affine", "f32 (2, 3)",
                        "f64 (2, 5)");  // terms of two dtypes
}
