// Our own seeded generator (xoshiro256**, seeded by splitmix64). Every draw uses only integer
// arithmetic and correctly rounded IEEE operations (+ - * / sqrt) and our own log, so the same seed
// yields the same numbers on every platform and standard library (std:: distributions do not).
#pragma once

#include <array>
#include <cstdint>

namespace seqgrad {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);

  uint64_t next_u64();
  double uniform();                      // [0, 1), 53 random bits
  double uniform(double lo, double hi);  // [lo, hi)
  double normal();                       // N(0, 1), Marsaglia's polar method
  double normal(double mean, double stddev) { return mean + stddev * normal(); }
  bool bernoulli(double p) { return uniform() < p; }
  uint64_t below(uint64_t n);  // uniform integer in [0, n), unbiased

  // Full state, for checkpoints: restoring it continues the exact same stream.
  struct State {
    std::array<uint64_t, 4> s;
    double spare;
    bool has_spare;
  };
  State state() const { return {s_, spare_, has_spare_}; }
  void set_state(const State& st) {
    s_ = st.s;
    spare_ = st.spare;
    has_spare_ = st.has_spare;
  }

 private:
  std::array<uint64_t, 4> s_{};
  double spare_ = 0.0;  // the polar method makes two normals per draw
  bool has_spare_ = false;
};

// Natural log with only + - * / (so it is bit-identical everywhere); |error| ~ 1 ulp.
double portable_log(double x);

}  // namespace seqgrad
