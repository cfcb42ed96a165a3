// A run folder <out>/<program>/<run>/: config.ini (the options that ran) and env.json (machine,
// commit, data files) on creation; metrics/*.csv, metrics.json, claims.json, checkpoint.sgck and
// plots/*.png as the run goes. Same seed + same config gives bitwise-identical metrics at any
// thread count: everything random comes from Rngs seeded by the program.
//
//   experiments::Run run(program, "scalar");                       // <out>/gradient_study/scalar/
//   auto& csv = run.csv("gradients", {"k", "w", "measured", "closed_form"});
//   csv.row({k, w, g, std::pow(w, T - k)});
//   run.plot({.name = "gradients", .csv = "gradients", .x = "k", .y = {"measured"}, .group_by = "w",
//             .log_y = true, .title = "|dh_T/dh_k| per step"});
//   run.finish({{"dh50_w0.9", g09}});                              // metrics.json
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "autograd/tensor.h"
#include "experiments/common/io.h"
#include "experiments/common/options.h"
#include "experiments/common/plot.h"
#include "nn/io/checkpoint.h"

namespace seqgrad::experiments {

// A value in metrics: number or text.
using Value = std::variant<double, int64_t, std::string>;
// A Value as JSON: numbers as format_number (non-finite ones as the strings "nan", "inf", "-inf",
// which JSON cannot represent as numbers), text quoted.
std::string json_value(const Value& v);

// One CSV file under <run>/metrics/, rows appended and flushed as they come.
class CsvLog {
 public:
  CsvLog(const std::filesystem::path& path, std::vector<std::string> columns);
  void row(const std::vector<Value>& values);  // throws when the count differs from the columns
  const std::filesystem::path& path() const;
  const std::vector<std::string>& columns() const;

 private:
  std::filesystem::path path_;
  std::vector<std::string> columns_;
  std::ofstream out_;
};

// A data file a run read, recorded in env.json with its absolute path, size and SHA-256.
struct DataFile {
  std::string role;  // e.g. "sentiment"
  std::filesystem::path path;
};

// On a rank other than 0 of a distributed sweep (sweep.h), a Run writes to a private scratch folder
// under the temporary directory, deleted with the Run: only rank 0 writes the run folder.
class Run {
 public:
  Run(const Program& program, const std::string& run_name, std::vector<DataFile> data_files = {});
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  const std::filesystem::path& dir() const;        // where this rank writes the run's files
  const std::filesystem::path& units_dir() const;  // <out>/<program>/<run>/units on every rank
  const Program& program() const { return program_; }
  CsvLog& csv(const std::string& name, std::vector<std::string> columns);
  void plot(const PlotSpec& spec);  // renders now; if gnuplot is missing, throws saying how to install it
  void save_checkpoint(const nn::Checkpoint& ckpt);  // <run>/checkpoint.sgck, atomically
  // The run's trained models in one checkpoint: model `key`'s parameter `name` as
  // "param/<key>/<name>" (e.g. "param/lstm/seed1/l0.weight_ih"), and the resolved config as the text
  // "config". Load one back with nn::get_module(ckpt, module, "param/<key>/").
  using NamedTensors = std::map<std::string, Tensor>;
  void save_models(const std::map<std::string, NamedTensors>& models);
  void finish(const std::map<std::string, Value>& final_metrics);  // metrics.json

 private:
  void write_env(double elapsed_seconds) const;  // env.json; elapsed < 0 while the run is going
  std::string data_files_json() const;

  const Program& program_;
  bool scratch_;  // a rank other than 0: dir_ is a private scratch folder
  std::filesystem::path dir_, units_dir_;
  std::vector<DataFile> data_files_;
  std::map<std::string, std::unique_ptr<CsvLog>> csvs_;
  std::chrono::steady_clock::time_point start_;
};

// Finished units of work of a run (one training of a cell and seed, say), so a stopped run resumes
// where it stopped: each finished unit is saved to <run>/units/<key>.sgck (its metrics and trained
// parameters, and the run's config), and a unit in progress may keep its own optim::Resumable
// checkpoint at in_progress(key). With --resume, find(key) returns a finished unit's checkpoint (and
// the program skips the work); a unit saved under another config is an error naming the file.
// Without --resume, a new Run starts clean (units/ is emptied).
class UnitStore {
 public:
  explicit UnitStore(const Run& run);                                // rank 0 makes <run>/units/
  std::optional<nn::Checkpoint> find(const std::string& key) const;  // only with --resume
  nn::Checkpoint load(const std::string& key) const;                 // a saved unit; throws naming a missing file
  void save(const std::string& key, nn::Checkpoint unit) const;      // atomically; adds the config text
  std::string in_progress(const std::string& key) const;             // <run>/units/<key>.partial.sgck
  const std::string& config() const { return config_; }              // what every unit is saved under
  // The config a unit must match: resolved_config() without the options that do not change
  // results (threads, out, resume, verify, eval-only).
  static std::string result_config(const Program& program);

 private:
  std::filesystem::path dir_;
  bool resume_;
  std::string config_;
};

// --verify for programs: for each (run folder below `out`, plot names), checks that config.ini
// exists, metrics.json and claims.json parse, every metrics/*.csv has a header and >= 1 row of the
// header's width, and each named plot is a PNG. Throws naming the first problem; returns the
// number of run folders checked (and prints one line saying so).
int verify_runs(const std::filesystem::path& out,
                const std::vector<std::pair<std::string, std::vector<std::string>>>& runs);

}  // namespace seqgrad::experiments
