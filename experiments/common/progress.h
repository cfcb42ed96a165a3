// "epoch 3/10  loss 0.4312  1,234 items/s  ETA 0:42" on one line of stderr, rewritten at most a
// few times per second (plain lines, about every 10%, when stderr is not a terminal). In a distributed
// sweep (sweep.h) each line starts with "rank <r>: ".
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace seqgrad::experiments {

// update(done, loss, items): `done` of `total` units finished so far, the latest loss, and the
// number of items (sequences, tokens…) processed SINCE THE PREVIOUS update (summed for items/s).
class Progress {
 public:
  Progress(std::string what, int64_t total);
  void update(int64_t done, double loss, int64_t items);
  void finish();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace seqgrad::experiments
