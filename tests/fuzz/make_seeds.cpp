// Writes the fuzzers' seed corpora: for each harness target (see fuzz_parsers.cpp) a few VALID
// inputs, made with our own writers where we have them, into <dir>/<target>/seed-N.
//   fuzz_make_seeds DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "autograd/rng.h"
#include "nn/io/checkpoint.h"
#include "nn/io/safetensors.h"

using namespace seqgrad;
namespace fs = std::filesystem;

static std::string repeat(const std::string& text, int times) {
  std::string out;
  for (int k = 0; k < times; ++k) out += text;
  return out;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  Rng rng(1);
  nn::Checkpoint ckpt;
  ckpt.tensors["param/l0.weight_ih"] = Tensor::normal({4, 3}, rng);
  ckpt.tensors["param/l0.bias"] = Tensor::normal({4}, rng, 0, 1, DType::f64);
  ckpt.tensors["history/loss"] = Tensor::zeros({0}, DType::f64);
  ckpt.texts["resume/step"] = "12";
  ckpt.texts["config"] = "hidden = 4\n";
  nn::put_rng(ckpt, "rng/data", rng);
  const std::map<std::string, Tensor> tensors = {{"weight_ih_l0", Tensor::normal({8, 3}, rng)},
                                                 {"bias_hh_l0", Tensor::normal({8}, rng, 0, 1, DType::f64)}};
  const std::map<std::string, std::vector<std::string>> seeds = {
      {"checkpoint", {nn::encode_checkpoint(ckpt), nn::encode_checkpoint({})}},
      {"safetensors", {nn::encode_safetensors(tensors, {{"format", "pt"}}), nn::encode_safetensors({})}},
      {"sentiment",
       {"[{\"text\": \"Great phone, works well.\", \"class\": 1},\n {\"text\": \"Caf\\u00e9 was awful\", "
        "\"class\": 0},\n {\"text\": \"\", \"class\": null}]\n"}},
      // Small files stop at the loaders' size check; the repeated ones (>= 10 records) get past it to
      // the vocabulary and the split.
      {"tsv",
       {"pos\tI loved it\nneg\tWorst film ever\npos\tGood\n", "1\tyes\r\n0\tno\r\n",
        repeat("pos\tI loved it\nneg\tWorst film ever\n", 6)}},
      {"tagged",
       {"The/at dog/nn barks/vbz ./.\nA/at 1/2/cd cup/nn\n",
        repeat("The/at dog/nn barks/vbz ./.\nA/at 1/2/cd cup/nn\n", 6)}},
      {"text", {"Call me Ishmael. Some years ago\xe2\x80\x94never mind how long.\n"}},
      {"series", {"year,month,value\n1749,1,58\n1749,2,62.6\n1749,3,70\n", "1.5\n2\n-3e2\n"}},
      {"config", {"steps = 7\nlr = 0.5 # comment\ncells = gru\nseed = 3\nquick = true\n"}},
      {"json", {"{\"loss\": 0.125, \"names\": [\"a\", \"\\u00e9\"], \"ok\": true, \"none\": null, \"x\": -1.5e-3}"}},
  };
  for (const auto& [target, inputs] : seeds) {
    fs::create_directories(dir / target);
    for (size_t k = 0; k < inputs.size(); ++k)
      std::ofstream(dir / target / ("seed-" + std::to_string(k)), std::ios::binary) << inputs[k];
  }
  std::printf("fuzz_make_seeds: %zu targets -> %s\n", seeds.size(), dir.c_str());
  return 0;
}
