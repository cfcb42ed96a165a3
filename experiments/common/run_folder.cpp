// Run folders: config.ini, env.json, CSV metrics, metrics.json, checkpoints. See run_folder.h.
#include "experiments/common/run_folder.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <oneapi/tbb/version.h>
#include <boost/version.hpp>
#include <cstdio>
#include <ctime>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "experiments/common/claims.h"
#include "experiments/common/sweep.h"
#include "nn/io/file_io.h"

#ifndef SEQGRAD_SOURCE_DIR
#define SEQGRAD_SOURCE_DIR ""
#endif
#ifndef SEQGRAD_VERSION
#define SEQGRAD_VERSION "unknown"
#endif

namespace seqgrad::experiments {

namespace fs = std::filesystem;

std::string json_value(const Value& v) {
  if (auto d = std::get_if<double>(&v)) return std::isfinite(*d) ? format_number(*d) : json_quote(format_number(*d));
  if (auto i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return json_quote(std::get<std::string>(v));
}

namespace {

// A CSV field: numbers exactly, text quoted when it holds a comma, quote or line break.
std::string csv_field(const Value& v) {
  if (auto d = std::get_if<double>(&v)) return format_number(*d);
  if (auto i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  const std::string& s = std::get<std::string>(v);
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

// ---- CsvLog -------------------------------------------------------------------------------------

CsvLog::CsvLog(const fs::path& path, std::vector<std::string> columns) : path_(path), columns_(std::move(columns)) {
  if (columns_.empty()) throw std::invalid_argument("csv " + path_.string() + ": no columns");
  std::set<std::string> seen;
  for (const auto& c : columns_)
    if (c.empty() || !seen.insert(c).second)
      throw std::invalid_argument("csv " + path_.string() + ": empty or duplicate column name '" + c + "'");
  if (path_.has_parent_path()) fs::create_directories(path_.parent_path());
  out_.open(path_, std::ios::out | std::ios::trunc);
  if (!out_) throw std::runtime_error("csv " + path_.string() + ": cannot open for writing");
  for (size_t i = 0; i < columns_.size(); ++i) out_ << (i ? "," : "") << csv_field(columns_[i]);
  out_ << '\n' << std::flush;
}

void CsvLog::row(const std::vector<Value>& values) {
  if (values.size() != columns_.size()) {
    std::string cols;
    for (const auto& c : columns_) cols += (cols.empty() ? "" : ", ") + c;
    throw std::invalid_argument("csv " + path_.filename().string() + ": row has " + std::to_string(values.size()) +
                                " values, expected " + std::to_string(columns_.size()) + " (" + cols + ")");
  }
  std::string line;
  for (size_t i = 0; i < values.size(); ++i) line += (i ? "," : "") + csv_field(values[i]);
  out_ << line << '\n' << std::flush;
  if (!out_) throw std::runtime_error("csv " + path_.string() + ": write failed");
}

const fs::path& CsvLog::path() const { return path_; }
const std::vector<std::string>& CsvLog::columns() const { return columns_; }

// ---- Run ----------------------------------------------------------------------------------------

namespace {

std::string git_commit() {
  const std::string dir = SEQGRAD_SOURCE_DIR;
  if (dir.empty() || !fs::is_directory(dir)) return "unknown";
  CommandResult r = run_command("git -C " + shell_quote(dir) + " rev-parse HEAD 2>/dev/null");
  std::string commit = trim(r.output);
  if (r.status != 0 || commit.empty()) return "unknown";
  CommandResult dirty =
      run_command("git -C " + shell_quote(dir) + " status --porcelain --untracked-files=no 2>/dev/null");
  if (dirty.status == 0 && !trim(dirty.output).empty()) commit += " (modified)";
  return commit;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("model name")) return trim(line.substr(line.find(':') + 1));
  return "unknown";
}

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "unknown";
#endif
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

namespace {

// A rank other than 0's folder for a run's files: <tmp>/seqgrad-<pid>-rank<r>/<run>.
fs::path scratch_dir(const std::string& run_name) {
  return fs::temp_directory_path() / ("seqgrad-" + std::to_string(::getpid()) + "-rank" + std::to_string(rank())) /
         run_name;
}

}  // namespace

Run::Run(const Program& program, const std::string& run_name, std::vector<DataFile> data_files)
    : program_(program),
      scratch_(!is_root()),
      dir_(scratch_ ? scratch_dir(run_name) : program.out() / run_name),
      units_dir_(program.out() / run_name / "units"),
      data_files_(std::move(data_files)),
      start_(std::chrono::steady_clock::now()) {
  check_name("run name", run_name);
  if (scratch_) {
    fs::create_directories(dir_ / "metrics");
    return;
  }
  // A rerun replaces what an earlier run of the same name wrote (and only that), so stale CSVs
  // or plots never mix with new ones.
  for (const char* entry :
       {"metrics", "plots", "metrics.json", "claims.json", "checkpoint.sgck", "env.json", "config.ini"})
    fs::remove_all(dir_ / entry);
  if (!program.get<bool>("resume")) fs::remove_all(dir_ / "units");  // finished work is kept only to resume
  fs::create_directories(dir_ / "metrics");
  write_file(dir_ / "config.ini", program.resolved_config());
  write_env(-1);
}

// [{"role", "path" (absolute), "bytes", "sha256"}, ...] of the data files the run read.
std::string Run::data_files_json() const {
  std::string out = "[";
  for (size_t i = 0; i < data_files_.size(); ++i) {
    const DataFile& d = data_files_[i];
    const fs::path abs = fs::absolute(d.path).lexically_normal();
    std::error_code ec;
    const auto bytes = fs::file_size(abs, ec);
    out += std::string(i ? ", " : "") + "{\"role\": " + json_quote(d.role) + ", \"path\": " + json_quote(abs.string()) +
           ", \"bytes\": " + (ec ? "null" : std::to_string(bytes)) + ", \"sha256\": " + json_quote(sha256_file(abs)) +
           "}";
  }
  return out + "]";
}

Run::~Run() {
  if (!scratch_) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::remove(dir_.parent_path(), ec);  // when it was the last run of this process
}

void Run::write_env(double elapsed_seconds) const {
  if (scratch_) return;  // git, /proc and data digests are rank 0's business
  utsname u{};
  std::string os = ::uname(&u) == 0 ? std::string(u.sysname) + " " + u.release + " " + u.machine : "unknown";
  std::string cmd;
  for (const auto& a : program_.command_line()) cmd += (cmd.empty() ? "" : " ") + a;
  std::vector<std::pair<std::string, std::string>> f = {
      {"program", json_quote(program_.name())},
      {"run", json_quote(dir_.filename().string())},
      {"command_line", json_quote(cmd)},
      {"started_utc", json_quote(utc_now())},
      {"seqgrad_version", json_quote(SEQGRAD_VERSION)},
      {"git_commit", json_quote(git_commit())},
      {"compiler", json_quote(compiler())},
#ifdef NDEBUG
      {"assertions", "false"},
#else
      {"assertions", "true"},
#endif
      {"threads", std::to_string(program_.threads())},
      {"ranks", std::to_string(rank_count())},
      {"threads_option", std::to_string(program_.get<int>("threads"))},
      {"hardware_concurrency", std::to_string(std::thread::hardware_concurrency())},
      {"tbb_version", json_quote(std::string(TBB_VERSION_STRING) + " (runtime " + TBB_runtime_version() + ")")},
      {"boost_version",
       json_quote(std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                  std::to_string(BOOST_VERSION % 100))},
      {"cpu_model", json_quote(cpu_model())},
      {"os", json_quote(os)},
  };
  f.push_back({"data_files", data_files_json()});
  if (elapsed_seconds >= 0) f.push_back({"elapsed_seconds", format_number(elapsed_seconds)});
  std::string text = "{\n";
  for (size_t i = 0; i < f.size(); ++i)
    text += "  " + json_quote(f[i].first) + ": " + f[i].second + (i + 1 < f.size() ? ",\n" : "\n");
  write_file(dir_ / "env.json", text + "}\n");
}

const fs::path& Run::dir() const { return dir_; }
const fs::path& Run::units_dir() const { return units_dir_; }

CsvLog& Run::csv(const std::string& name, std::vector<std::string> columns) {
  check_name("csv", name);
  auto it = csvs_.find(name);
  if (it != csvs_.end()) {
    if (it->second->columns() != columns)
      throw std::invalid_argument("csv '" + name + "': already opened in this run with other columns");
    return *it->second;
  }
  auto log = std::make_unique<CsvLog>(dir_ / "metrics" / (name + ".csv"), std::move(columns));
  return *csvs_.emplace(name, std::move(log)).first->second;
}

void Run::plot(const PlotSpec& spec) {
  auto it = csvs_.find(spec.csv);
  if (it == csvs_.end()) throw std::invalid_argument("plot '" + spec.name + "': no csv '" + spec.csv + "' in this run");
  if (scratch_) return;
  render_plot(dir_, it->second->columns(), spec, program_.name() + ", run " + dir_.filename().string());
}

void Run::save_checkpoint(const nn::Checkpoint& ckpt) {
  nn::save_checkpoint((dir_ / "checkpoint.sgck").string(), ckpt);
}

void Run::save_models(const std::map<std::string, NamedTensors>& models) {
  nn::Checkpoint ckpt;
  for (const auto& [key, params] : models)
    for (const auto& [name, value] : params) ckpt.tensors["param/" + key + "/" + name] = value;
  ckpt.texts["config"] = program_.resolved_config();
  save_checkpoint(ckpt);
}

void Run::finish(const std::map<std::string, Value>& final_metrics) {
  std::string text = "{";
  size_t i = 0;
  for (const auto& [k, v] : final_metrics)
    text += std::string(i++ ? ",\n  " : "\n  ") + json_quote(k) + ": " + json_value(v);
  text += final_metrics.empty() ? "}\n" : "\n}\n";
  write_file(dir_ / "metrics.json", text);
  write_env(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
}

// ---- UnitStore ------------------------------------------------------------------------------------

UnitStore::UnitStore(const Run& run)
    : dir_(run.units_dir()), resume_(run.program().get<bool>("resume")), config_(result_config(run.program())) {
  if (is_root()) fs::create_directories(dir_);  // the other ranks wait for it in train_units
}

std::string UnitStore::result_config(const Program& program) {
  std::istringstream in(program.resolved_config());
  std::string out;
  for (std::string line; std::getline(in, line);) {
    const std::string key = trim(line.substr(0, line.find('=')));
    if (line.starts_with("#") || key == "threads" || key == "out" || key == "resume" || key == "verify" ||
        key == "eval-only")
      continue;
    out += line + "\n";
  }
  return out;
}

std::optional<nn::Checkpoint> UnitStore::find(const std::string& key) const {
  check_name("unit", key);
  if (!resume_ || !fs::exists(dir_ / (key + ".sgck"))) return std::nullopt;
  return load(key);
}

nn::Checkpoint UnitStore::load(const std::string& key) const {
  check_name("unit", key);
  const fs::path file = dir_ / (key + ".sgck");
  if (!fs::exists(file)) throw std::runtime_error("unit " + file.string() + ": file not found");
  nn::Checkpoint unit = nn::load_checkpoint(file.string());
  auto it = unit.texts.find("config");
  if (it == unit.texts.end() || it->second != config_)
    throw std::invalid_argument(
        "--resume: " + file.string() +
        " was written under another configuration; rerun without --resume, or with the config.ini of that run");
  return unit;
}

void UnitStore::save(const std::string& key, nn::Checkpoint unit) const {
  check_name("unit", key);
  unit.texts["config"] = config_;
  nn::save_checkpoint((dir_ / (key + ".sgck")).string(), unit);
  fs::remove(in_progress(key));
}

std::string UnitStore::in_progress(const std::string& key) const {
  check_name("unit", key);
  return (dir_ / (key + ".partial.sgck")).string();
}

// ---- verify ---------------------------------------------------------------------------------------

namespace {

std::string slurp(const fs::path& p) {
  try {
    return read_file(p);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("verify: ") + e.what());
  }
}

// The CSV has a header and at least one row, every row as wide as the header.
void verify_csv(const fs::path& csv) {
  std::istringstream in(slurp(csv));
  size_t columns = 0, rows = 0;
  for (std::string line; std::getline(in, line);) {
    const size_t n = split_csv_line(line).size();
    if (rows++ == 0) columns = n;
    else if (n != columns) throw std::runtime_error("verify: " + csv.string() + ": ragged row " + std::to_string(rows));
  }
  if (rows < 2) throw std::runtime_error("verify: " + csv.string() + " has no data rows");
}

}  // namespace

int verify_runs(const fs::path& out, const std::vector<std::pair<std::string, std::vector<std::string>>>& runs) {
  int checked = 0;
  for (const auto& [run, plots] : runs) {
    const fs::path dir = out / run;
    (void)read_json_file(dir / "metrics.json");  // throws when missing or malformed
    (void)read_claims(dir / "claims.json");
    if (!fs::exists(dir / "config.ini")) throw std::runtime_error("verify: missing " + (dir / "config.ini").string());
    int csvs = 0;
    for (const auto& entry : fs::directory_iterator(dir / "metrics"))
      if (entry.path().extension() == ".csv") verify_csv(entry.path()), ++csvs;
    if (csvs == 0) throw std::runtime_error("verify: no CSV in " + (dir / "metrics").string());
    for (const std::string& plot : plots) {
      const std::string png = slurp(dir / "plots" / (plot + ".png"));
      if (png.size() < 8 || png.compare(1, 3, "PNG") != 0)
        throw std::runtime_error("verify: " + plot + ".png is not a PNG");
    }
    ++checked;
  }
  std::printf("verify: %d run folders, their CSVs, metrics.json, claims.json and plots parse\n", checked);
  return checked;
}
}  // namespace seqgrad::experiments
