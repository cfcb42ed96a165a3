// libFuzzer harness for one parser of outside input, chosen at compile time by SEQGRAD_FUZZ_TARGET
// (tests/fuzz/CMakeLists.txt builds one binary per target):
//   checkpoint   nn::decode_checkpoint            safetensors  nn::decode_safetensors
//   sentiment    data::read_sentiment_json        tsv          data::load_classification_tsv
//   tagged       data::load_tagging_file          text         data::load_text
//   series       data::load_series_csv            config       experiments::Program --config FILE
//   json         experiments::parse_json (the report's reader of metrics.json / claims.json)
// Every parser must either succeed or throw a std::exception; anything else is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/common/experiment.h"
#include "experiments/data/data.h"
#include "nn/io/checkpoint.h"
#include "nn/io/safetensors.h"

using namespace seqgrad;
namespace data = seqgrad::experiments::data;

namespace {

// A per-process scratch file holding `bytes` (the file-based loaders read paths, not memory).
std::string scratch_file(std::string_view bytes, const char* suffix) {
  static const std::string stem =
      (std::filesystem::temp_directory_path() / ("seqgrad-fuzz-" + std::to_string(::getpid()))).string();
  const std::string path = stem + suffix;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
  return path;
}

void parse_config(std::string_view bytes) {
  const std::string path = scratch_file(bytes, ".ini");
  experiments::Program program("fuzz", "config-file fuzzing");
  program.option<int64_t>("steps", 5, 2, "steps");
  program.option<double>("lr", 0.1, "lr");
  program.option<std::string>("cells", "lstm", "cells");
  std::vector<std::string> args = {"fuzz", "--config", path, "--threads", "1"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  program.parse(int(argv.size()), argv.data());
  (void)program.resolved_config();
}

void run(std::string_view bytes) {
  const std::string target = SEQGRAD_FUZZ_TARGET;
  if (target == "checkpoint") (void)nn::decode_checkpoint(bytes, "fuzz");
  else if (target == "safetensors") (void)nn::decode_safetensors(bytes, "fuzz");
  else if (target == "sentiment") (void)data::read_sentiment_json(scratch_file(bytes, ".json"));
  else if (target == "tsv") (void)data::load_classification_tsv(scratch_file(bytes, ".tsv"));
  else if (target == "tagged") (void)data::load_tagging_file(scratch_file(bytes, ".txt"));
  else if (target == "text") (void)data::load_text(scratch_file(bytes, ".txt"));
  else if (target == "series") (void)data::load_series_csv(scratch_file(bytes, ".csv"));
  else if (target == "config") parse_config(bytes);
  else if (target == "json") (void)experiments::parse_json(bytes, "fuzz");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  try {
    run(std::string_view(reinterpret_cast<const char*>(bytes), size));
  } catch (const std::exception&) {
    // Rejected with a message: the expected outcome for malformed input.
  }
  return 0;
}
