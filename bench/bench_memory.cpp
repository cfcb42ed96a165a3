// Peak resident memory of one LSTM training step at (B=64, T=100, I=128, H=256), next to the
// analytic size of the activations backward must keep. A plain program (not a Google Benchmark
// case) so that no other benchmark's peak pollutes the process high-water mark:
//   seqgrad_bench_memory [B T I H]
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "autograd/buffer.h"
#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/cells.h"
#include "nn/recurrent.h"

using namespace seqgrad;

static double vm_kb(const char* key) {  // VmRSS / VmHWM of this process, in KiB
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::atof(line.c_str() + std::string(key).size());
  return -1;
}

int main(int argc, char** argv) {
  int64_t B = 64, T = 100, I = 128, H = 256;
  if (argc == 5) B = std::atoll(argv[1]), T = std::atoll(argv[2]), I = std::atoll(argv[3]), H = std::atoll(argv[4]);
  Rng rng(1);
  nn::Lstm cell(I, H, rng);
  const Tensor x = Tensor::uniform({B, T, I}, rng, -1, 1), target = Tensor::uniform({B, T, H}, rng, -1, 1);
  Tape tape(1 << 14);
  const double base_kb = vm_kb("VmRSS:");
  const double MiB = 1024.0 * 1024.0;
  double peak_kb = 0;
  for (int step = 0; step < 3; ++step) {
    tape.reset();
    cell.zero_grad();
    Var loss = mse(nn::unroll(cell, tape.constant(x)).output, tape.constant(target));
    tape.backward(loss);
    peak_kb = vm_kb("VmHWM:");
    std::printf("step %d: peak RSS %.1f MiB (%.1f MiB above the pre-step baseline %.1f MiB), pool cache %.1f MiB\n",
                step, peak_kb / 1024, (peak_kb - base_kb) / 1024, base_kb / 1024,
                double(memory_stats().bytes_cached) / MiB);
  }
  // What reverse mode must keep per step: the 4 gate activations, c_t and h_t (B·H each), plus
  // the input x (B·T·I) for the weight gradient (4-byte floats). This is what a fused LSTM keeps.
  const double needed = 4.0 * double(B * T * (6 * H) + B * T * I) / MiB;
  const double params = 4.0 * double(4 * H * (I + H) + 4 * H) / MiB;
  std::printf("LSTM B=%lld T=%lld I=%lld H=%lld: activations kept (analytic) %.1f MiB, parameters+grads %.1f MiB\n",
              (long long)B, (long long)T, (long long)I, (long long)H, needed, 2 * params);
  std::printf("RESULT peak_above_baseline_mib=%.1f analytic_mib=%.1f\n", (peak_kb - base_kb) / 1024, needed);
  return 0;
}
