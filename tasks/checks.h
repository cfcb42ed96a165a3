// What the generators share (not installed): argument checks and an inclusive uniform integer.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "autograd/rng.h"

namespace seqgrad::tasks {

// Throws "<where>: needs batch >= 1 and T >= <min_T>, got batch = …, T = …".
inline void require_batch(const char* where, int64_t batch, int64_t T, int64_t min_T) {
  if (batch < 1 || T < min_T)
    throw std::invalid_argument(std::string(where) + ": needs batch >= 1 and T >= " + std::to_string(min_T) +
                                ", got batch = " + std::to_string(batch) + ", T = " + std::to_string(T));
}

inline int64_t uniform_in(Rng& rng, int64_t lo, int64_t hi) {  // inclusive
  return lo + int64_t(rng.below(uint64_t(hi - lo + 1)));
}

}  // namespace seqgrad::tasks
