// Shape ops: gradchecks on every axis of rank-3 inputs, golden values against index arithmetic,
// views, empty ranges, accumulation of overlapping/repeated reads, and error messages.
#include <oneapi/tbb/global_control.h>

#include "testing.h"

using namespace seqgrad;
using seqgrad::testing::random_normal;

namespace {

const Shape kS{2, 3, 4};

// x with x[i, j, k] = 100 i + 10 j + k, so every element names its own position.
Tensor positional(const Shape& s, DType dtype = DType::f64) {
  Tensor t(s, dtype);
  std::vector<double> v;
  for (int64_t i = 0; i < s.numel(); ++i) {
    int64_t rem = i, code = 0, scale = 1;
    for (int d = s.rank() - 1; d >= 0; --d, scale *= 10) {
      code += (rem % s[d]) * scale;
      rem /= s[d];
    }
    v.push_back(double(code));
  }
  return Tensor::from(s, v, dtype);
}

// Runs backward from y with a seed of ones.
void backward_ones(const Var& y) { y.tape().backward(y, Tensor::ones(y.shape(), y.dtype())); }

std::vector<double> grad_values(const Var& x) { return x.grad().to_vector(); }

}  // namespace

// ---- reshape ---------------------------------------------------------------------------------

TEST_CASE("reshape: a view with -1, gradchecked", "[ops][shape]") {
  Tape tape;
  Var x = tape.variable(positional(kS));
  Var y = reshape(x, {4, -1});
  REQUIRE(y.shape() == Shape{4, 6});
  REQUIRE(y.value().shares_storage(x.value()));
  REQUIRE(y.value().to_vector() == x.value().to_vector());
  REQUIRE(std::string(y.op()) == "reshape");

  auto f = [](std::span<const Var> v) { return reshape(v[0], {-1, 2}); };
  REQUIRE_GRADCHECK(f, {random_normal(kS)});
  auto g = [](std::span<const Var> v) { return reshape(v[0], {24}); };
  REQUIRE_GRADCHECK(g, {random_normal(kS)});
}

TEST_CASE("reshape: backward accumulates into fan-out", "[ops][shape]") {
  Tape tape;
  Var x = tape.variable(Tensor::zeros({2, 3}, DType::f64));
  Var y = reshape(x, {3, 2}) + reshape(x, {3, 2});
  backward_ones(y);
  for (double g : grad_values(x)) REQUIRE(g == 2.0);
}

TEST_CASE("reshape: errors name the op and shapes", "[ops][shape]") {
  Tape tape;
  Var x = tape.variable(positional(kS));
  REQUIRE_THROWS_NAMING(reshape(x, {5, 5}), "reshape", "(2, 3, 4)", "(5, 5)");
  REQUIRE_THROWS_NAMING(reshape(x, {5, -1}), "reshape", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(reshape(x, {-1, -1}), "reshape", "-1");
}

// ---- transpose -------------------------------------------------------------------------------

TEST_CASE("transpose: golden values for every axis pair of a rank-3 tensor", "[ops][shape]") {
  Tape tape;
  Tensor xv = positional(kS);
  Var x = tape.constant(xv);
  for (int a0 = -3; a0 < 3; ++a0)
    for (int a1 = -3; a1 < 3; ++a1) {
      Var y = transpose(x, a0, a1);
      const int p = (a0 + 3) % 3, q = (a1 + 3) % 3;
      Shape want = kS.with(p, kS[q]).with(q, kS[p]);
      REQUIRE(y.shape() == want);
      for (int64_t i = 0; i < kS[0]; ++i)
        for (int64_t j = 0; j < kS[1]; ++j)
          for (int64_t k = 0; k < kS[2]; ++k) {
            int64_t idx[3] = {i, j, k};
            std::swap(idx[p], idx[q]);
            REQUIRE(y.value().at({idx[0], idx[1], idx[2]}) == xv.at({i, j, k}));
          }
    }
  // Default axes: the last two; 2-D and rank-4.
  Var m = tape.constant(Tensor::from({2, 3}, {1, 2, 3, 4, 5, 6}));
  REQUIRE(transpose(m).value().to_vector() == std::vector<double>{1, 4, 2, 5, 3, 6});
  Var r4 = tape.constant(positional({2, 3, 4, 5}));
  Var t4 = transpose(r4, 0, 2);
  REQUIRE(t4.shape() == Shape{4, 3, 2, 5});
  REQUIRE(t4.value().at({3, 1, 0, 4}) == 134.0);   // x[0, 1, 3, 4]
  REQUIRE(t4.value().at({2, 0, 1, 3}) == 1023.0);  // x[1, 0, 2, 3]
}

TEST_CASE("transpose: gradcheck on every axis pair", "[ops][shape]") {
  for (std::pair<int, int> axes :
       std::initializer_list<std::pair<int, int>>{{0, 1}, {0, 2}, {1, 2}, {2, 0}, {-1, -3}, {1, 1}}) {
    INFO("axes " << axes.first << ", " << axes.second);
    auto f = [axes](std::span<const Var> v) { return transpose(v[0], axes.first, axes.second); };
    REQUIRE_GRADCHECK(f, {random_normal(kS)});
  }
  auto twice = [](std::span<const Var> v) { return transpose(v[0]) * transpose(v[0]); };
  REQUIRE_GRADCHECK(twice, {random_normal({3, 5})});
}

TEST_CASE("transpose: axis out of range", "[ops][shape]") {
  Tape tape;
  Var x = tape.variable(positional(kS));
  REQUIRE_THROWS_NAMING(transpose(x, 0, 3), "transpose", "axis 3", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(transpose(x, -4, 0), "transpose", "axis -4", "(2, 3, 4)");
}

// ---- slice, split, chunk ---------------------------------------------------------------------

TEST_CASE("slice: golden values and gradcheck on every axis", "[ops][shape]") {
  Tape tape;
  Tensor xv = positional(kS);
  Var x = tape.constant(xv);
  Var y = slice(x, 2, 1, 3);
  REQUIRE(y.shape() == Shape{2, 3, 2});
  REQUIRE(y.value().at({1, 2, 0}) == 121.0);
  REQUIRE(y.value().at({0, 1, 1}) == 12.0);
  REQUIRE(slice(x, -2, 2, 3).value().to_vector() == std::vector<double>{20, 21, 22, 23, 120, 121, 122, 123});
  REQUIRE(slice(x, 0, 1, 2).value().to_vector() == slice(x, -3, 1, 2).value().to_vector());

  for (int axis = -3; axis < 3; ++axis) {
    INFO("axis " << axis);
    auto f = [axis](std::span<const Var> v) { return slice(v[0], axis, 1, 2); };
    REQUIRE_GRADCHECK(f, {random_normal(kS)});
  }
}

TEST_CASE("slice: full and empty ranges", "[ops][shape]") {
  Tape tape;
  Var x = tape.variable(positional(kS));
  Var full = slice(x, 1, 0, 3);
  REQUIRE(full.shape() == kS);
  REQUIRE(bitwise_equal(full.value(), x.value()));
  REQUIRE_FALSE(full.value().shares_storage(x.value()));  // a copy
  auto f = [](std::span<const Var> v) { return slice(v[0], 1, 0, 3); };
  REQUIRE_GRADCHECK(f, {random_normal(kS)});

  for (int64_t at : {0, 2, 3}) {
    Var empty = slice(x, 1, at, at);
    REQUIRE(empty.shape() == Shape{2, 0, 4});
    tape.backward(empty, Tensor::zeros(empty.shape(), DType::f64));
  }
  for (double g : grad_values(x)) REQUIRE(g == 0.0);
}

TEST_CASE("slice: overlapping slices accumulate", "[ops][shape]") {
  Tape tape;
  Var x = tape.variable(Tensor::zeros({4, 2}, DType::f64));
  Var parts[] = {slice(x, 0, 0, 3), slice(x, 0, 1, 4)};
  backward_ones(concat(parts, 0));
  REQUIRE(grad_values(x) == std::vector<double>{1, 1, 2, 2, 2, 2, 1, 1});
}

TEST_CASE("slice: bad ranges name the op, the range and the shape", "[ops][shape]") {
  Tape tape;
  Var x = tape.variable(positional(kS));
  REQUIRE_THROWS_NAMING(slice(x, 1, 2, 1), "slice", "[2, 1)", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(slice(x, 1, 0, 4), "slice", "[0, 4)", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(slice(x, 1, 4, 4), "slice", "[4, 4)", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(slice(x, 2, -1, 2), "slice", "[-1, 2)", "(2, 3, 4)");
  REQUIRE_THROWS_NAMING(slice(x, 3, 0, 1), "slice", "axis 3", "(2, 3, 4)");
}

TEST_CASE("split: parts, gradcheck on every axis, bad sizes", "[ops][shape]") {
  Tape tape;
  Var x = tape.constant(positional(kS));
  int64_t sizes[] = {1, 0, 3};
  auto parts = split(x, sizes, 2);
  REQUIRE(parts.size() == 3);
  REQUIRE(parts[0].shape() == Shape{2, 3, 1});
  REQUIRE(parts[1].shape() == Shape{2, 3, 0});
  REQUIRE(parts[2].value().at({1, 2, 2}) == 123.0);

  for (int axis = -3; axis < 3; ++axis) {
    INFO("axis " << axis);
    auto f = [axis](std::span<const Var> v) {
      const int64_t n = v[0].size(axis);
      int64_t s[] = {n - 1, 1};
      auto p = split(v[0], s, axis);
      Var swapped[] = {p[1], p[0]};  // each part reaches the output at a new place
      return concat(swapped, axis);
    };
    REQUIRE_GRADCHECK(f, {random_normal(kS)});
  }
  int64_t bad[] = {2, 3};
  REQUIRE_THROWS_NAMING(split(x, bad, 1), "split", "5", "(2, 3, 4)");
  int64_t negative[] = {4, -1};
  REQUIRE_THROWS_NAMING(split(x, negative, 1), "split", "-1");
  REQUIRE_THROWS_NAMING(split(x, sizes, -4), "split", "axis -4");
}

TEST_CASE("chunk<4>: LSTM gates from a (B, 4H) pre-activation", "[ops][shape]") {
  const int64_t B = 2, H = 3;
  Tape tape;
  Var z = tape.variable(positional({B, 4 * H}));
  auto [i, f, g, o] = chunk<4>(z, 1);
  const Var* gates[] = {&i, &f, &g, &o};
  for (int64_t q = 0; q < 4; ++q) {
    REQUIRE(gates[q]->shape() == Shape{B, H});
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h) REQUIRE(gates[q]->value().at({b, h}) == double(10 * b + q * H + h));
  }
  // Gates used with different weights: dz = [1 | 2 | 3 | 4] blocks.
  backward_ones(i + 2.0 * f + 3.0 * g + 4.0 * o);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < 4 * H; ++c) REQUIRE(z.grad().at({b, c}) == double(1 + c / H));

  auto cell = [](std::span<const Var> v) {
    auto [ig, fg, gg, og] = chunk<4>(v[0], -1);
    Var c = sigmoid(fg) * v[1] + sigmoid(ig) * tanh(gg);
    return sigmoid(og) * tanh(c);
  };
  REQUIRE_GRADCHECK(cell, {random_normal({B, 4 * H}, 3), random_normal({B, H}, 4)});
}

TEST_CASE("chunk: every axis, and an axis not divisible", "[ops][shape]") {
  for (int axis = 0; axis < 3; ++axis) {
    INFO("axis " << axis);
    auto f = [axis](std::span<const Var> v) {
      auto p = chunk(v[0], 2, axis);
      return p[0] * p[1];
    };
    REQUIRE_GRADCHECK(f, {random_normal({2, 4, 6})});
  }
  Tape tape;
  Var z = tape.variable(positional({2, 10}));
  REQUIRE(chunk(z, 1, 0).size() == 1);
  REQUIRE_THROWS_NAMING(chunk<4>(z, 1), "chunk", "(2, 10)", "4");
  REQUIRE_THROWS_NAMING(chunk(z, 0, 1), "chunk", "(2, 10)", "0");
  REQUIRE_THROWS_NAMING(chunk(z, 2, 2), "chunk", "axis 2", "(2, 10)");
}

// ---- concat and stack ------------------------------------------------------------------------

TEST_CASE("concat: golden values for 1 and 3 inputs", "[ops][shape]") {
  Tape tape;
  Var a = tape.constant(Tensor::from({2, 1}, {1, 2}));
  Var b = tape.constant(Tensor::from({2, 2}, {3, 4, 5, 6}));
  Var c = tape.constant(Tensor::from({2, 3}, {7, 8, 9, 10, 11, 12}));
  Var three[] = {a, b, c};
  Var y = concat(three, 1);
  REQUIRE(y.shape() == Shape{2, 6});
  REQUIRE(y.value().to_vector() == std::vector<double>{1, 3, 4, 7, 8, 9, 2, 5, 6, 10, 11, 12});
  REQUIRE(concat(three, -1).value().to_vector() == y.value().to_vector());
  Var rows[] = {b, b};
  REQUIRE(concat(rows, 0).value().to_vector() == std::vector<double>{3, 4, 5, 6, 3, 4, 5, 6});
  Var one[] = {c};
  Var y1 = concat(one, 0);
  REQUIRE(bitwise_equal(y1.value(), c.value()));
}

TEST_CASE("concat: gradcheck on every axis, 1 and 3 inputs, one constant", "[ops][shape]") {
  for (int axis = -3; axis < 3; ++axis) {
    INFO("axis " << axis);
    const int a = (axis + 3) % 3;
    auto f = [axis](std::span<const Var> v) { return concat(v, axis); };
    REQUIRE_GRADCHECK(f, {random_normal(kS.with(a, 1), 1), random_normal(kS, 2), random_normal(kS.with(a, 2), 3)});
    REQUIRE_GRADCHECK(f, {random_normal(kS)});
    // A constant in the middle: the variables around it still get their own blocks.
    Tensor k = random_normal(kS, 9);
    auto g = [axis, k](std::span<const Var> v) {
      Var xs[] = {v[0], v[0].tape().constant(k), v[1]};
      return concat(xs, axis);
    };
    REQUIRE_GRADCHECK(g, {random_normal(kS, 5), random_normal(kS.with(a, 2), 6)});
  }
}

TEST_CASE("concat: the same input twice accumulates", "[ops][shape]") {
  Tape tape;
  Var x = tape.variable(Tensor::zeros({2, 2}, DType::f64));
  Var xs[] = {x, x, x};
  backward_ones(concat(xs, 1));
  for (double g : grad_values(x)) REQUIRE(g == 3.0);
}

TEST_CASE("concat: mismatched inputs name the op and shapes", "[ops][shape]") {
  Tape tape;
  Var a = tape.variable(Tensor::zeros({2, 3}));
  Var b = tape.variable(Tensor::zeros({3, 3}));
  Var c = tape.variable(Tensor::zeros({2, 3, 1}));
  Var d = tape.variable(Tensor::zeros({2, 3}, DType::f64));
  Var ab[] = {a, b}, ac[] = {a, c}, ad[] = {a, d};
  REQUIRE_THROWS_NAMING(concat(ab, 1), "concat", "(2, 3)", "(3, 3)");
  REQUIRE_NOTHROW(concat(ab, 0));
  REQUIRE_THROWS_NAMING(concat(ac, 0), "concat", "(2, 3)", "(2, 3, 1)");
  REQUIRE_THROWS_NAMING(concat(ad, 0), "concat", "f32 (2, 3)", "f64 (2, 3)");
  REQUIRE_THROWS_NAMING(concat(ab, 2), "concat", "axis 2", "(2, 3)");
  REQUIRE_THROWS_NAMING(concat(std::span<const Var>(), 0), "concat", "at least one");
}

TEST_CASE("stack: golden values, every axis, 1 and 3 inputs", "[ops][shape]") {
  Tape tape;
  Var a = tape.constant(Tensor::from({2, 2}, {1, 2, 3, 4}));
  Var b = tape.constant(Tensor::from({2, 2}, {5, 6, 7, 8}));
  Var ab[] = {a, b};
  REQUIRE(stack(ab, 0).shape() == Shape{2, 2, 2});
  REQUIRE(stack(ab, 0).value().to_vector() == std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8});
  REQUIRE(stack(ab, 1).value().to_vector() == std::vector<double>{1, 2, 5, 6, 3, 4, 7, 8});
  REQUIRE(stack(ab, -1).value().to_vector() == std::vector<double>{1, 5, 2, 6, 3, 7, 4, 8});
  REQUIRE(stack(ab, 2).value().to_vector() == stack(ab, -1).value().to_vector());
  REQUIRE(stack(ab, -3).value().to_vector() == stack(ab, 0).value().to_vector());
  Var one[] = {a};
  REQUIRE(stack(one, 1).shape() == Shape{2, 1, 2});

  for (int axis = -4; axis < 4; ++axis) {
    INFO("axis " << axis);
    auto f = [axis](std::span<const Var> v) { return stack(v, axis); };
    REQUIRE_GRADCHECK(f, {random_normal(kS, 1), random_normal(kS, 2), random_normal(kS, 3)});
    REQUIRE_GRADCHECK(f, {random_normal(kS)});
  }
}

TEST_CASE("stack: errors", "[ops][shape]") {
  Tape tape;
  Var a = tape.variable(Tensor::zeros({2, 3}));
  Var b = tape.variable(Tensor::zeros({3, 2}));
  Var ab[] = {a, b}, aa[] = {a, a};
  REQUIRE_THROWS_NAMING(stack(ab, 0), "stack", "(2, 3)", "(3, 2)");
  REQUIRE_THROWS_NAMING(stack(aa, 3), "stack", "axis 3", "(2, 3)");
  REQUIRE_THROWS_NAMING(stack(aa, -4), "stack", "axis -4", "(2, 3)");
  REQUIRE_THROWS_NAMING(stack(std::span<const Var>(), 0), "stack", "at least one");
}

// ---- index_select ----------------------------------------------------------------------------

TEST_CASE("index_select: golden values and exact accumulation counts", "[ops][shape]") {
  Tape tape;
  Var E = tape.variable(positional({5, 3}));
  int64_t ids[] = {0, 2, 2, 4, 2};
  Var y = index_select(E, 0, ids);
  REQUIRE(y.shape() == Shape{5, 3});
  REQUIRE(y.value().to_vector() == std::vector<double>{0, 1, 2, 20, 21, 22, 20, 21, 22, 40, 41, 42, 20, 21, 22});
  backward_ones(y);
  REQUIRE(grad_values(E) == std::vector<double>{1, 1, 1, 0, 0, 0, 3, 3, 3, 0, 0, 0, 1, 1, 1});

  // Along the last axis of a rank-3 tensor, twice (fan-out adds up too).
  Var x = tape.variable(positional(kS));
  int64_t cols[] = {3, 3, 1};
  Var z = index_select(x, -1, cols);
  REQUIRE(z.shape() == Shape{2, 3, 3});
  REQUIRE(z.value().at({1, 2, 0}) == 123.0);
  REQUIRE(z.value().at({1, 2, 2}) == 121.0);
  backward_ones(z + index_select(x, 2, cols));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      REQUIRE(x.grad().at({i, j, 0}) == 0.0);
      REQUIRE(x.grad().at({i, j, 1}) == 2.0);
      REQUIRE(x.grad().at({i, j, 2}) == 0.0);
      REQUIRE(x.grad().at({i, j, 3}) == 4.0);
    }

  int64_t none[1] = {};
  Var empty = index_select(E, 0, std::span<const int64_t>(none, 0));
  REQUIRE(empty.shape() == Shape{0, 3});
}

TEST_CASE("index_select: gradcheck on every axis with repeated indices", "[ops][shape]") {
  for (int axis = -3; axis < 3; ++axis) {
    INFO("axis " << axis);
    auto f = [axis](std::span<const Var> v) {
      int64_t ids[] = {1, 0, 1, 1};
      return index_select(v[0], axis, ids);
    };
    REQUIRE_GRADCHECK(f, {random_normal(kS)});
  }
}

TEST_CASE("index_select: bad indices name the index and the size", "[ops][shape]") {
  Tape tape;
  Var E = tape.variable(positional({5, 3}));
  int64_t big[] = {0, 5}, negative[] = {-1};
  REQUIRE_THROWS_NAMING(index_select(E, 0, big), "index_select", "index 5", "size 5", "(5, 3)");
  REQUIRE_THROWS_NAMING(index_select(E, 1, big), "index_select", "index 5", "size 3", "(5, 3)");
  REQUIRE_THROWS_NAMING(index_select(E, 0, negative), "index_select", "index -1", "size 5");
  REQUIRE_THROWS_NAMING(index_select(E, 2, big), "index_select", "axis 2", "(5, 3)");
}

// ---- large tensors: the parallel paths agree with a 1-thread run, bit for bit ------------------

TEST_CASE("shape ops: large inputs are identical at 1 and many threads", "[ops][shape]") {
  // Rows longer than the element grain (split into pieces) and many short rows (split by rows).
  auto run = [] {
    Tape tape;
    Var x = tape.variable(random_normal({3, 70000}, 11).to(DType::f32));
    Var m = tape.variable(random_normal({300, 200}, 12).to(DType::f32));
    int64_t ids[] = {2, 0, 2, 2, 1};
    Var e = index_select(x, 0, ids);  // (5, 70000)
    Var s = slice(x, 1, 5, 69990);    // (3, 69985)
    Var parts[] = {s, slice(x, 1, 0, 100)};
    Var c = concat(parts, 1);  // (3, 70085)
    Var t = transpose(m);      // (200, 300)
    Var st[] = {m, m};
    Var k = stack(st, 1);  // (300, 2, 200)
    Var loss = sum(e) + sum(c * c) + sum(t * t) + sum(k);
    tape.backward(loss);
    return std::vector<Tensor>{e.value(), c.value(), t.value(), k.value(), x.grad(), m.grad()};
  };
  std::vector<Tensor> one;
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
    one = run();
  }
  std::vector<Tensor> many = run();
  for (size_t i = 0; i < one.size(); ++i) REQUIRE(bitwise_equal(one[i], many[i]));

  // Spot checks against index arithmetic.
  Tape tape;
  Tensor xv = random_normal({3, 70000}, 11);
  Var x = tape.constant(xv);
  int64_t ids[] = {2, 0};
  Var e = index_select(x, 0, ids);
  for (int64_t j : {0, 32767, 32768, 40000, 69999}) {
    REQUIRE(e.value().at({0, j}) == xv.at({2, j}));
    REQUIRE(e.value().at({1, j}) == xv.at({0, j}));
  }
  Tensor mv = random_normal({300, 200}, 12);
  Var t = transpose(tape.constant(mv));
  for (int64_t i : {0, 150, 299})
    for (int64_t j : {0, 77, 199}) REQUIRE(t.value().at({j, i}) == mv.at({i, j}));
}
