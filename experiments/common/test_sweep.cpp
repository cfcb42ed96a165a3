// Distributed sweeps (sweep.h) as one process sees them: the assignment of units to ranks, and
// train_units on one rank (resume, order, errors). The multi-rank runs are CTests under mpiexec
// (sweep_tests.cmake).
#include <catch2/catch.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/common/experiment.h"
#include "temp_dir.h"

using namespace seqgrad;
using seqgrad::testing::TempDir;

namespace {

experiments::Unit unit_of(const std::string& key, double cost, std::vector<std::string>* trained = nullptr) {
  return {key, cost, [key, trained] {
            if (trained) trained->push_back(key);
            nn::Checkpoint u;
            u.texts["key"] = key;
            u.tensors["value"] = Tensor::from({1}, {double(key.size())}, DType::f64);
            return u;
          }};
}

// A program with only the common options, parsed from `args`.
experiments::Program program_of(const std::vector<std::string>& args) {
  experiments::Program p("sweep_test", "train_units on one rank");
  std::vector<std::string> all = {"sweep_test"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  REQUIRE(p.parse(int(argv.size()), argv.data()));
  return p;
}

}  // namespace

TEST_CASE("assign_units: longest first, each to the least-loaded rank, ties by key then rank", "[experiments]") {
  const std::vector<experiments::Unit> units = {unit_of("a", 2), unit_of("b", 7), unit_of("c", 3), unit_of("d", 3),
                                                unit_of("e", 5)};
  // b 7 -> r0; e 5 -> r1; c 3 (before d by key) -> r1 (5 < 7); d 3 -> r0 (7 < 8); a 2 -> r1 (8 < 10).
  CHECK(experiments::assign_units(units, 2) == std::vector<int>{1, 0, 1, 0, 1});
  CHECK(experiments::assign_units(units, 1) == std::vector<int>{0, 0, 0, 0, 0});
  // More ranks than units: one each, the longest on rank 0, the rest idle.
  CHECK(experiments::assign_units({unit_of("x", 1), unit_of("y", 1)}, 4) == std::vector<int>{0, 1});
  CHECK(experiments::assign_units({}, 3).empty());
}

TEST_CASE("train_units on one rank: trains in the given order, resumes the rest, keeps the order", "[experiments]") {
  TempDir tmp("expc-sweep");
  std::vector<std::string> trained;
  {
    const experiments::Program p = program_of({"--out", tmp.path.string()});
    experiments::Run run(p, "r");
    const experiments::UnitStore store(run);
    const auto done = experiments::train_units(store, {unit_of("b", 1, &trained), unit_of("a", 9, &trained)});
    CHECK(trained == std::vector<std::string>{"b", "a"});  // one at a time, as given: not by cost
    REQUIRE(done.size() == 2);
    CHECK(done[0].texts.at("key") == "b");
  }
  std::filesystem::remove(tmp.path / "sweep_test" / "r" / "units" / "b.sgck");
  trained.clear();
  std::vector<std::string> resumed;
  const experiments::Program p = program_of({"--out", tmp.path.string(), "--resume"});
  experiments::Run run(p, "r");
  const experiments::UnitStore store(run);
  const auto done = experiments::train_units(store, {unit_of("b", 1, &trained), unit_of("a", 9, &trained)},
                                             {.on_resumed = [&](const std::string& k) { resumed.push_back(k); }});
  CHECK(trained == std::vector<std::string>{"b"});
  CHECK(resumed == std::vector<std::string>{"a"});
  CHECK(done[1].texts.at("key") == "a");
  CHECK(done[1].tensors.at("value").to_vector() == std::vector<double>{1.0});
}

TEST_CASE("train_units: a failing unit is an error as it is, and one rank runs any configuration", "[experiments]") {
  TempDir tmp("expc-sweep-err");
  const experiments::Program p = program_of({"--out", tmp.path.string()});
  experiments::Run run(p, "r");
  const experiments::UnitStore store(run);
  const experiments::Unit bad{"bad", 1, []() -> nn::Checkpoint { throw std::invalid_argument("--lr: too large"); }};
  CHECK_THROWS_WITH(experiments::train_units(store, {bad}), "--lr: too large");
  CHECK(experiments::rank() == 0);
  CHECK(experiments::rank_count() == 1);
  CHECK_NOTHROW(experiments::check_same_config(p));
}
