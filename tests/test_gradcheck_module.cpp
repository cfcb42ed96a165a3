// gradcheck_module over named parameters only: passes on correct modules, catches a deliberately
// wrong backward in exactly the parameter it affects, and rejects unknown names listing the valid ones.
#include "autograd/kernels.h"
#include "nn/cells.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "testing.h"

using namespace seqgrad;
using namespace seqgrad::nn;
using seqgrad::testing::random_normal;

namespace {

// y = 2x, but its backward forgets the factor 2 (a typical hand-written-backward bug).
Var doubled_wrong(const Var& x) {
  return x.tape().record("doubled_wrong", kernels::scale(x.value(), 2.0), {x},
                         [x](GradContext& g) { g.accumulate(x, g.out()); });
}

// out = Σ tanh(x Aᵀ) ⊙ R + Σ doubled_wrong(tanh(x Bᵀ)) ⊙ R': only B's gradient goes through the bug.
struct TwoPaths : Module {
  Parameter a{random_normal({3, 2}, 1)}, b{random_normal({3, 2}, 2)};
  TwoPaths() {
    register_parameter("a", a);
    register_parameter("b", b);
  }
  Var operator()(Tape& tape, const Tensor& x) {
    Var xv = tape.constant(x);
    Var r = tape.constant(random_normal({4, 3}, 3));
    return sum(tanh(affine(xv, a.var(tape), Var())) * r) + sum(doubled_wrong(tanh(affine(xv, b.var(tape), Var()))) * r);
  }
};

}  // namespace

TEST_CASE("gradcheck_module by name: a 2-layer GRU stack, two of its parameters", "[nn][gradcheck]") {
  Rng rng(4);
  Recurrent rnn(cell_factory<Gru>(), 2, 3, rng, {.num_layers = 2});  // float32: converted for the check
  const Tensor x = random_normal({2, 4, 2}, 5), r = random_normal({2, 4, 3}, 6);
  const Tensor before = rnn.cell(0).parameters()[1]->value.clone();
  const GradcheckResult res = gradcheck_module(rnn,
                                               [&](Tape& tape) {
                                                 Rng dropout(9);
                                                 return sum(rnn(tape.constant(x), dropout).output * tape.constant(r));
                                               },
                                               {"l1.bias", "l0.weight_hh"});
  INFO(res.str());
  CHECK(res.ok);
  CHECK(res.checked == 9 + 9 * 3);  // the GRU's bias (3H) and W_hh (3H, H) only, H = 3
  CHECK(rnn.cell(0).parameters()[1]->value.dtype() == DType::f32);
  CHECK(bitwise_equal(rnn.cell(0).parameters()[1]->value, before));
}

TEST_CASE("gradcheck_module by name catches a wrong backward in the parameter it affects", "[nn][gradcheck]") {
  TwoPaths m;
  const Tensor x = random_normal({4, 2}, 7);
  auto f = [&](Tape& tape) { return m(tape, x); };
  const GradcheckResult only_a = gradcheck_module(m, f, {"a"});
  INFO(only_a.str());
  CHECK(only_a.ok);  // A's path is correct
  CHECK(only_a.checked == 6);
  const GradcheckResult with_b = gradcheck_module(m, f, {"a", "b"});
  INFO(with_b.str());
  CHECK_FALSE(with_b.ok);
  CHECK(with_b.input == 1);  // the worst element is in b
  CHECK(std::abs(with_b.numeric - 2 * with_b.analytic) < 1e-6 * std::abs(with_b.numeric) + 1e-9);  // half the truth
}

TEST_CASE("gradcheck_module by name: unknown, repeated or no names are errors", "[nn][gradcheck]") {
  Rng rng(8);
  Elman cell(2, 3, rng);
  auto f = [&](Tape& tape) { return sum(cell.step(tape.constant(random_normal({1, 2})), cell.zero_state(tape, 1)).h); };
  REQUIRE_THROWS_NAMING(gradcheck_module(cell, f, {"weight_xx"}), "gradcheck_module", "'weight_xx'",
                        "valid names: weight_ih, weight_hh, bias");
  REQUIRE_THROWS_NAMING(gradcheck_module(cell, f, {"bias", "bias"}), "gradcheck_module", "'bias'", "twice");
  REQUIRE_THROWS_NAMING(gradcheck_module(cell, f, std::span<const std::string>{}), "gradcheck_module", "no parameters");
  CHECK(cell.dtype() == DType::f32);
}
