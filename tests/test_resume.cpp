// optim::Resumable: a run checkpointed and resumed (fresh objects, everything from the file)
// continues bitwise identically; histories survive; a checkpoint of another config or model is
// refused; SIGTERM makes after_step() save and ask the loop to stop.
#include <csignal>
#include <filesystem>

#include "nn/layers.h"
#include "optim/optim.h"
#include "testing.h"

using namespace seqgrad;
using Catch::Contains;
using seqgrad::testing::TempDir;

namespace {

struct Model : nn::Module {
  Rng init;
  nn::Linear layer;
  explicit Model(uint64_t seed, int64_t out = 2) : init(seed), layer(3, out, init) { register_module("layer", layer); }
};

// Trains steps [first, last) with Adam on data drawn from `rng`; records the loss into `losses`.
void train(Model& m, optim::Adam& adam, Rng& rng, int64_t first, int64_t last, std::vector<double>& losses,
           optim::Resumable* run = nullptr) {
  for (int64_t step = first; step < last; ++step) {
    Tape tape;
    adam.zero_grad();
    Var x = tape.constant(Tensor::normal({4, 3}, rng));
    Var loss = mean(m.layer(x) * m.layer(x));
    tape.backward(loss);
    adam.step();
    losses.push_back(loss.item());
    if (run) run->after_step(step + 1);
  }
}

std::vector<float> values(Model& m) {
  std::vector<float> out;
  for (auto& [name, p] : m.named_parameters())
    out.insert(out.end(), p->value.data<float>(), p->value.data<float>() + p->value.numel());
  return out;
}

}  // namespace

TEST_CASE("Resumable: stop, resume from the file into fresh objects, continue bitwise identically", "[optim][resume]") {
  TempDir dir("resume");
  const std::string path = dir.file("run.ckpt");
  Model straight(1);
  optim::Adam adam(straight.named_parameters(), {.lr = 0.05});
  Rng data(9);
  std::vector<double> straight_losses;
  train(straight, adam, data, 0, 10, straight_losses);

  {  // 7 steps with checkpoints every 3: the file holds step 6, step 7 is lost as in a crash
    Model m(1);
    optim::Adam a(m.named_parameters(), {.lr = 0.05});
    Rng d(9);
    optim::Resumable run(path, m, a, {{"data", &d}}, {.every = 3, .config = "lr=0.05"});
    CHECK(run.resume() == 0);  // no file yet: a fresh start
    train(m, a, d, 0, 7, run.history("loss"), &run);
  }
  Model m(77);  // other seeds: everything must come from the checkpoint
  optim::Adam a(m.named_parameters(), {.lr = 0.05});
  Rng d(1234);
  optim::Resumable run(path, m, a, {{"data", &d}}, {.every = 3, .config = "lr=0.05"});
  const int64_t first = run.resume();
  REQUIRE(first == 6);
  REQUIRE(run.history("loss").size() == 6);
  train(m, a, d, first, 10, run.history("loss"), &run);
  CHECK(values(m) == values(straight));
  CHECK(run.history("loss") == straight_losses);
}

TEST_CASE("Resumable: refuses another config, another model, bad options", "[optim][resume]") {
  TempDir dir("resume");
  const std::string path = dir.file("run.ckpt");
  Model m(1);
  optim::Adam a(m.named_parameters());
  Rng d(1);
  optim::Resumable(path, m, a, {{"data", &d}}, {.config = "hidden=32"}).save(5);

  CHECK_THROWS_WITH(optim::Resumable(path, m, a, {{"data", &d}}, {.config = "hidden=64"}).resume(),
                    Contains("run.ckpt") && Contains("another configuration") && Contains("hidden=64"));
  Model other(1, 5);  // other shapes
  optim::Adam ao(other.named_parameters());
  const std::vector<float> before = values(other);
  CHECK_THROWS_WITH(optim::Resumable(path, other, ao, {{"data", &d}}, {.config = "hidden=32"}).resume(),
                    Contains("layer.weight"));
  CHECK(values(other) == before);
  CHECK_THROWS_WITH(optim::Resumable(path, m, a, {}, {.every = 0}), Contains("every"));

  // The model fits but the optimiser state does not (an SGD run's file): all or nothing, so the
  // model loaded first is put back, and so is the Rng.
  Model fresh(2);
  optim::SGD sgd(fresh.named_parameters(), {.lr = 0.1, .momentum = 0.9});
  Rng fresh_data(3);
  const std::vector<float> fresh_before = values(fresh);
  const uint64_t next_before = Rng(fresh_data).next_u64();
  CHECK_THROWS_WITH(optim::Resumable(path, fresh, sgd, {{"data", &fresh_data}}, {.config = "hidden=32"}).resume(),
                    Contains("run.ckpt"));
  CHECK(values(fresh) == fresh_before);
  CHECK(fresh_data.next_u64() == next_before);
  CHECK_THROWS_WITH(optim::Resumable(path, m, a, {{"data", nullptr}}), Contains("data"));
  nn::save_checkpoint(path, nn::Checkpoint{});
  CHECK_THROWS_WITH(optim::Resumable(path, m, a, {}).resume(), Contains("not a training checkpoint"));
}

TEST_CASE("Resumable: SIGTERM makes after_step checkpoint and ask the loop to stop", "[optim][resume]") {
  TempDir dir("resume");
  const std::string path = dir.file("run.ckpt");
  Model m(1);
  optim::Adam a(m.named_parameters());
  Rng d(1);
  optim::Resumable run(path, m, a, {{"data", &d}}, {.every = 1000});
  CHECK(run.after_step(1));
  CHECK_FALSE(std::filesystem::exists(path));
  std::raise(SIGTERM);  // handled: sets the flag, the test process lives on
  CHECK(optim::Resumable::stop_signal() == SIGTERM);
  CHECK_FALSE(run.after_step(2));
  REQUIRE(std::filesystem::exists(path));
  CHECK(nn::load_checkpoint(path).texts.at("resume/step") == "2");
}
