// The shared experiment machinery: options (Boost.Program_options, command line over .ini),
// run folders (config.ini, env.json, metrics/*.csv, metrics.json, checkpoint, gnuplot plots),
// the progress line and run_main. See experiment.h.
#include "experiments/common/experiment.h"

#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/version.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/version.h>
#include <set>
#include <sstream>
#include <thread>

#include "experiments/common/report.h"
#include "nn/file_io.h"

#ifndef SEQGRAD_SOURCE_DIR
#define SEQGRAD_SOURCE_DIR ""
#endif
#ifndef SEQGRAD_VERSION
#define SEQGRAD_VERSION "unknown"
#endif

namespace seqgrad::experiments {

namespace fs = std::filesystem;

// ---- small text helpers ---------------------------------------------------------------------------

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}


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

// `s` single-quoted for /bin/sh.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// `s` as a gnuplot double-quoted string.
std::string gp_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

struct CommandResult {
  int status = -1;  // exit code, -1 when the command could not run or was killed
  std::string output;
};

// Runs a /bin/sh command, capturing its stdout (add 2>&1 for stderr).
CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) r.status = WEXITSTATUS(status);
  return r;
}

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, std::min(s.size(), s.find_first_not_of(ws)));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

std::string first_line(const std::string& s) {
  std::string t = trim(s);
  return t.substr(0, t.find('\n'));
}

// Names used as file names: letters, digits, '_', '-', '.', not starting with '.'.
void check_name(const std::string& what, const std::string& name) {
  bool ok = !name.empty() && name[0] != '.';
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
  if (!ok) throw std::invalid_argument(what + " '" + name + "': use letters, digits, '_', '-' and '.' only");
}

void write_text(const fs::path& path, const std::string& text) { nn::write_file_atomic(path.string(), text); }

// ---- option values as text --------------------------------------------------------------------

template <typename T>
bool append_as(const boost::any& a, std::vector<std::string>& out) {
  auto text = [](const auto& x) -> std::string {
    using X = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<X, bool>) return x ? "true" : "false";
    else if constexpr (std::is_floating_point_v<X>) return format_number(double(x));
    else if constexpr (std::is_integral_v<X>) return std::to_string(x);
    else return std::string(x);
  };
  if (auto p = boost::any_cast<T>(&a)) {
    out.push_back(text(*p));
    return true;
  }
  if (auto p = boost::any_cast<std::vector<T>>(&a)) {
    for (const auto& x : *p) out.push_back(text(x));
    return true;
  }
  return false;
}

// The values of one option as text (several for a vector option); throws for types we do not know.
std::vector<std::string> option_text(const std::string& name, const boost::any& a) {
  std::vector<std::string> out;
  if (append_as<std::string>(a, out) || append_as<bool>(a, out) || append_as<int>(a, out) ||
      append_as<long>(a, out) || append_as<long long>(a, out) || append_as<unsigned>(a, out) ||
      append_as<unsigned long>(a, out) || append_as<unsigned long long>(a, out) || append_as<double>(a, out) ||
      append_as<float>(a, out))
    return out;
  throw std::logic_error("--" + name + ": resolved_config cannot print this option's type (add it in experiment.cpp)");
}

// True when `text` is a whole number written in full whose value is NaN or infinite ("nan", "inf",
// "-infinity", "1e999"); text that is no number at all is left to Boost's own check.
bool non_finite_number(const std::string& text) {
  const std::string t = trim(text);
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  return !t.empty() && end == t.c_str() + t.size() && !std::isfinite(v);
}

// What Boost would accept but no program can use: a positional argument (Boost drops it silently),
// "-1" for an unsigned type (Boost wraps it around) and NaN or infinity for a floating-point one
// (it would silently poison training).
void reject_unusable_values(const po::parsed_options& parsed, const po::options_description& desc) {
  for (const po::option& o : parsed.options) {
    if (o.string_key.empty())
      throw std::invalid_argument("unexpected argument '" + (o.value.empty() ? std::string() : o.value[0]) +
                                  "' (options are written --name value)");
    const po::option_description* d = desc.find_nothrow(o.string_key, false);
    if (!d) continue;
    const po::value_semantic* sem = d->semantic().get();
    bool is_unsigned = dynamic_cast<const po::typed_value<unsigned>*>(sem) ||
                       dynamic_cast<const po::typed_value<unsigned long>*>(sem) ||
                       dynamic_cast<const po::typed_value<unsigned long long>*>(sem);
    bool is_float = dynamic_cast<const po::typed_value<double>*>(sem) || dynamic_cast<const po::typed_value<float>*>(sem);
    for (const std::string& v : o.value) {
      if (is_unsigned && trim(v).starts_with("-"))
        throw std::invalid_argument("--" + o.string_key + ": invalid value '" + v + "': must not be negative");
      if (is_float && non_finite_number(v))
        throw std::invalid_argument("--" + o.string_key + ": invalid value '" + v + "': must be a finite number");
    }
  }
}

// Boost prints double defaults with 17 digits ("(=0.10000000000000001)"); show the shortest text
// that reads back to the same value, padded so the description column stays aligned.
std::string tidy_defaults(const std::string& help) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = help.find("(=", pos);
    size_t close = open == std::string::npos ? open : help.find(')', open);
    if (close == std::string::npos) break;
    out.append(help, pos, open - pos);
    const std::string text = help.substr(open + 2, close - open - 2);
    double v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    std::string shortest = format_number(v);
    if (r.ec == std::errc() && r.ptr == text.data() + text.size() && shortest.size() < text.size() &&
        text.find_first_of(".eE") != std::string::npos) {
      out += "(=" + shortest + ")" + std::string(text.size() - shortest.size(), ' ');
    } else {
      out.append(help, open, close + 1 - open);
    }
    pos = close + 1;
  }
  out.append(help, pos);
  return out;
}

}  // namespace

// ---- Program ------------------------------------------------------------------------------------

struct Program::Impl {
  std::string name, description;
  po::options_description specific;
  po::options_description common{"Common options"};
  po::variables_map vm;
  std::unique_ptr<tbb::global_control> threads_control;
  std::vector<std::string> argv;
  Impl(std::string n, std::string d) : name(std::move(n)), description(std::move(d)), specific(name + " options") {}
};

Program::Program(std::string name, std::string description)
    : impl_(std::make_shared<Impl>(std::move(name), std::move(description))) {
  check_name("program name", impl_->name);
  impl_->common.add_options()                                                                  //
      ("help,h", "print this help and exit")                                                   //
      ("config", po::value<std::string>()->value_name("FILE"),
       "read options from an .ini file (key = value, keys are option names); the command line wins")  //
      ("seed", po::value<uint64_t>()->default_value(1)->value_name("N"), "random seed (unsigned 64-bit)")  //
      ("threads", po::value<int>()->default_value(0)->value_name("N"),
       "TBB worker thread limit, 0 = all cores (results do not depend on it)")  //
      ("out", po::value<std::string>()->default_value("runs")->value_name("DIR"),
       "runs are written under DIR/<program>/<run>")  //
      ("quick", po::value<bool>()->default_value(false, "false")->implicit_value(true, "true")->value_name("BOOL"),
       "a fast, reduced run (smoke test)");
}

po::options_description& Program::options() { return impl_->specific; }
const std::string& Program::name() const { return impl_->name; }
const po::variables_map& Program::vm() const { return impl_->vm; }
const std::vector<std::string>& Program::command_line() const { return impl_->argv; }

std::string option_error(const po::error& e, const std::vector<std::string>& tokens) {
  for (const std::string& t : tokens)
    if (t.find('%') != std::string::npos) return "invalid option or value in '" + t + "'";
  return e.what();
}

bool Program::parse(int argc, char** argv) {
  Impl& m = *impl_;
  m.argv.assign(argv, argv + argc);
  m.vm.clear();
  po::options_description all;
  all.add(m.specific).add(m.common);
  try {
    po::parsed_options parsed = po::command_line_parser(argc, argv).options(all).run();
    reject_unusable_values(parsed, all);
    po::store(parsed, m.vm);
  } catch (const po::error& e) {
    throw std::invalid_argument(option_error(e, m.argv));
  }
  if (m.vm.count("help")) {
    std::ostringstream help;
    help << all;
    std::cout << "Usage: " << m.name << " [options]\n" << m.description << "\n\n" << tidy_defaults(help.str()) << std::flush;
    return false;
  }
  if (m.vm.count("config")) {
    // Values already stored from the command line are kept: po::store never overwrites them.
    const std::string path = m.vm["config"].as<std::string>();
    std::ifstream file(path);
    if (!file) throw std::invalid_argument("--config: cannot read config file '" + path + "'");
    std::ostringstream text;
    text << file.rdbuf();
    std::vector<std::string> lines;
    std::istringstream in(text.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    in.clear();
    in.seekg(0);
    try {
      po::parsed_options parsed = po::parse_config_file(in, all, /*allow_unregistered=*/false);
      for (const po::option& o : parsed.options)
        if (o.string_key == "config" || o.string_key == "help")
          throw std::invalid_argument("option '" + o.string_key + "' is not allowed in a config file");
      reject_unusable_values(parsed, all);
      po::store(parsed, m.vm);
    } catch (const po::error& e) {
      throw std::invalid_argument(option_error(e, lines) + " (in config file " + path + ")");
    } catch (const std::invalid_argument& e) {  // our own checks
      throw std::invalid_argument(std::string(e.what()) + " (in config file " + path + ")");
    }
  }
  try {
    po::notify(m.vm);
  } catch (const po::error& e) {
    throw std::invalid_argument(option_error(e, m.argv));
  }
  const int threads = m.vm["threads"].as<int>();
  if (threads < 0)
    throw std::invalid_argument("--threads: invalid value '" + std::to_string(threads) + "': must be >= 0 (0 = all cores)");
  if (m.vm["out"].as<std::string>().empty()) throw std::invalid_argument("--out: must not be empty");
  m.threads_control.reset();
  if (threads > 0)
    m.threads_control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, size_t(threads));
  return true;
}

uint64_t Program::seed() const { return get<uint64_t>("seed"); }
int Program::threads() const {
  return int(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}
bool Program::quick() const { return get<bool>("quick"); }
fs::path Program::out() const { return fs::path(get<std::string>("out")) / impl_->name; }

std::string Program::resolved_config() const {
  const Impl& m = *impl_;
  std::string out = "# " + m.name + ": every option with its final value (usable as --config)\n";
  auto section = [&](const po::options_description& desc) {
    for (const auto& d : desc.options()) {
      const std::string& key = d->long_name();
      if (key == "help" || key == "config") continue;
      auto it = m.vm.find(key);
      if (it == m.vm.end() || it->second.empty()) {
        out += "# " + key + " = (not set)\n";
        continue;
      }
      for (const std::string& v : option_text(key, it->second.value())) out += key + " = " + v + "\n";
    }
  };
  section(m.specific);
  section(m.common);
  return out;
}

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
  CommandResult dirty = run_command("git -C " + shell_quote(dir) + " status --porcelain --untracked-files=no 2>/dev/null");
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

Run::Run(const Program& program, const std::string& run_name)
    : program_(program), dir_(program.out() / run_name), start_(std::chrono::steady_clock::now()) {
  check_name("run name", run_name);
  // A rerun replaces what an earlier run of the same name wrote (and only that), so stale CSVs
  // or plots never mix with new ones.
  for (const char* entry : {"metrics", "plots", "metrics.json", "claims.json", "checkpoint.sgck", "env.json", "config.ini"})
    fs::remove_all(dir_ / entry);
  fs::create_directories(dir_ / "metrics");
  write_text(dir_ / "config.ini", program.resolved_config());
  write_env(-1);
}

void Run::write_env(double elapsed_seconds) const {
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
      {"threads_option", std::to_string(program_.get<int>("threads"))},
      {"hardware_concurrency", std::to_string(std::thread::hardware_concurrency())},
      {"tbb_version", json_quote(std::string(TBB_VERSION_STRING) + " (runtime " + TBB_runtime_version() + ")")},
      {"boost_version", json_quote(std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) +
                                   "." + std::to_string(BOOST_VERSION % 100))},
      {"cpu_model", json_quote(cpu_model())},
      {"os", json_quote(os)},
  };
  if (elapsed_seconds >= 0) f.push_back({"elapsed_seconds", format_number(elapsed_seconds)});
  std::string text = "{\n";
  for (size_t i = 0; i < f.size(); ++i)
    text += "  " + json_quote(f[i].first) + ": " + f[i].second + (i + 1 < f.size() ? ",\n" : "\n");
  write_text(dir_ / "env.json", text + "}\n");
}

const fs::path& Run::dir() const { return dir_; }

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

namespace {

fs::path find_gnuplot() {
  if (const char* env = std::getenv("SEQGRAD_GNUPLOT")) return env;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string d;
  while (std::getline(dirs, d, ':')) {
    fs::path p = fs::path(d.empty() ? "." : d) / "gnuplot";
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

// Whether this gnuplot has the cairo PNG terminal (nicer anti-aliased output); asked once per binary.
bool has_pngcairo(const fs::path& gnuplot) {
  static std::mutex mu;
  static std::map<std::string, bool> known;
  std::lock_guard lock(mu);
  auto it = known.find(gnuplot.string());
  if (it != known.end()) return it->second;
  CommandResult r = run_command(shell_quote(gnuplot.string()) + " -e 'set terminal' 2>&1 </dev/null");
  return known[gnuplot.string()] = r.output.find("pngcairo") != std::string::npos;
}

// The distinct values of one column of a CSV we wrote, in order of first appearance.
std::vector<std::string> distinct_values(const fs::path& csv, size_t column) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::string> values;
  std::set<std::string> seen;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') field += '"', ++i;
      else if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) fields.push_back(std::move(field)), field.clear();
      else field += c;
    }
    fields.push_back(field);
    if (column < fields.size() && seen.insert(fields[column]).second) values.push_back(fields[column]);
  }
  return values;
}

}  // namespace

void Run::plot(const PlotSpec& spec) {
  const std::string what = "plot '" + spec.name + "'";
  check_name("plot", spec.name);
  auto it = csvs_.find(spec.csv);
  if (it == csvs_.end()) throw std::invalid_argument(what + ": no csv '" + spec.csv + "' in this run");
  const CsvLog& log = *it->second;
  auto column = [&](const std::string& c) {
    auto pos = std::find(log.columns().begin(), log.columns().end(), c);
    if (pos == log.columns().end()) throw std::invalid_argument(what + ": csv '" + spec.csv + "' has no column '" + c + "'");
    return size_t(pos - log.columns().begin());
  };
  column(spec.x);
  if (spec.y.empty()) throw std::invalid_argument(what + ": no y column");
  for (const auto& y : spec.y) column(y);

  const fs::path gnuplot = find_gnuplot();
  if (gnuplot.empty() || ::access(gnuplot.c_str(), X_OK) != 0)
    throw std::runtime_error(what + ": gnuplot not found" + (gnuplot.empty() ? "" : " at " + gnuplot.string()) +
                             "; install it with `apt-get install gnuplot-nox`");
  const bool cairo = has_pngcairo(gnuplot);

  // Series: (y column, optional group value). Colour follows the group (or the y column when not
  // grouped); with groups and several y columns, the dash pattern and point type follow the y column.
  struct Series {
    std::string y, group;
    size_t colour, dash;
  };
  std::vector<Series> series;
  std::vector<std::string> groups;
  if (!spec.group_by.empty()) groups = distinct_values(log.path(), column(spec.group_by));
  for (size_t yi = 0; yi < spec.y.size(); ++yi) {
    if (spec.group_by.empty()) series.push_back({spec.y[yi], "", yi + 1, 1});
    // gnuplot's default palette has 8 colours: past them the dash pattern changes instead.
    for (size_t gi = 0; gi < groups.size(); ++gi) series.push_back({spec.y[yi], groups[gi], gi % 8 + 1, yi + 1 + gi / 8});
  }
  const int64_t rows_per_series = [&] {
    std::ifstream in(log.path());
    int64_t lines = std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n') - 1;
    return groups.empty() ? lines : lines / int64_t(groups.size());
  }();
  const std::string style = rows_per_series <= 60 ? "linespoints pointsize 0.8" : "lines";

  std::ostringstream gp;
  gp << "# " << (spec.title.empty() ? spec.name : spec.title) << "\n"
     << "# Written by seqgrad (" << program_.name() << ", run " << dir_.filename().string()
     << "). Edit freely, then re-render inside this folder: gnuplot " << spec.name << ".gp\n"
     << "set datafile separator \",\"\n"
     << "data = " << gp_quote(fs::path("..") / "metrics" / (spec.csv + ".csv")) << "\n"
     << "set title " << gp_quote(spec.title.empty() ? spec.name : spec.title) << "\n"
     << "set xlabel " << gp_quote(spec.x_label.empty() ? spec.x : spec.x_label) << "\n"
     << "set ylabel " << gp_quote(!spec.y_label.empty() ? spec.y_label : spec.y.size() == 1 ? spec.y[0] : "") << "\n"
     << "set grid\nset key outside right top" << (spec.group_by.empty() ? "" : " title " + gp_quote(spec.group_by)) << "\n"
     << "set autoscale xfix\n";
  if (spec.log_y) gp << "set logscale y\nset format y \"%.0e\"\n";
  // One datablock per group, filtered by gnuplot itself (so editing the CSV and re-running works);
  // filtering inside `plot` would break lines wherever the groups interleave.
  std::vector<std::string> plots;
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& [y, g, colour, dash] = series[i];
    const std::string title = g.empty() ? y : (spec.y.size() > 1 ? y + ", " : "") + g;  // the key's title names group_by
    const std::string look = " with " + style + " linewidth 1.5 linecolor " + std::to_string(colour) + " dashtype " +
                             std::to_string(dash) + (style == "lines" ? "" : " pointtype " + std::to_string(i % 13 + 1)) +
                             " title " + gp_quote(title);
    if (g.empty()) {
      plots.push_back("data using " + gp_quote(spec.x) + ":" + gp_quote(y) + look);
    } else {
      const std::string block = "$series" + std::to_string(i);
      gp << "set table " << block << " separator comma\n"
         << "plot data using " << gp_quote(spec.x) << ":" << gp_quote(y) << " with table if (strcol("
         << gp_quote(spec.group_by) << ") eq " << gp_quote(g) << ")\n";
      plots.push_back(block + " using 1:2" + look);
    }
  }
  if (!groups.empty()) gp << "unset table\n";
  std::string plot_cmd = "plot ";
  for (size_t i = 0; i < plots.size(); ++i) plot_cmd += (i ? ", \\\n     " : "") + plots[i];
  gp << "set terminal " << (cairo ? "pngcairo" : "png") << " size 960,540 noenhanced" << (cairo ? " font \",11\"" : "") << "\n"
     << "set output " << gp_quote(spec.name + ".png") << "\n"
     << plot_cmd << "\n"
     << "set terminal svg size 960,540 noenhanced dynamic background rgb \"white\"\n"
     << "set output " << gp_quote(spec.name + ".svg") << "\n"
     << "replot\nunset output\n";

  const fs::path plots_dir = dir_ / "plots";
  fs::create_directories(plots_dir);
  write_text(plots_dir / (spec.name + ".gp"), gp.str());
  CommandResult r = run_command("cd " + shell_quote(plots_dir.string()) + " && " + shell_quote(gnuplot.string()) + " " +
                                shell_quote(spec.name + ".gp") + " 2>&1 </dev/null");
  if (r.status != 0)
    throw std::runtime_error(what + ": gnuplot failed (" + (plots_dir / (spec.name + ".gp")).string() +
                             "): " + first_line(r.output));
}

void Run::save_checkpoint(const nn::Checkpoint& ckpt) { nn::save_checkpoint((dir_ / "checkpoint.sgck").string(), ckpt); }

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
  for (const auto& [k, v] : final_metrics) text += std::string(i++ ? ",\n  " : "\n  ") + json_quote(k) + ": " + json_value(v);
  text += final_metrics.empty() ? "}\n" : "\n}\n";
  write_text(dir_ / "metrics.json", text);
  write_env(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
}

// ---- Progress -----------------------------------------------------------------------------------

struct Progress::Impl {
  using Clock = std::chrono::steady_clock;
  std::string what;
  int64_t total;
  Clock::time_point start = Clock::now(), last_print;
  int64_t items = 0, last_done = 0;
  int last_decile = -1;
  double last_loss = NAN;
  bool tty = ::isatty(2) == 1, printed = false, finished = false, line_open = false;

  std::string line(int64_t done) const {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    char buf[256];
    std::string rate = "-";
    if (elapsed >= 0.1 && items > 0) {
      // Thousands separators: 1,234,567.
      std::string digits = std::to_string(int64_t(items / elapsed + 0.5));
      rate.clear();
      for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) rate += ',';
        rate += digits[i];
      }
    }
    std::string eta = "-";
    if (done > 0 && done < total) {
      const long long s = (long long)(elapsed * double(total - done) / double(done) + 0.5);
      if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
      else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
      eta = buf;
    } else if (done >= total) {
      std::snprintf(buf, sizeof buf, "done in %.1f s", elapsed);
      eta = buf;
    }
    std::snprintf(buf, sizeof buf, "%s %lld/%lld  loss %.4g  %s items/s  %s%s", what.c_str(), (long long)done,
                  (long long)total, last_loss, rate.c_str(), done >= total ? "" : "ETA ", eta.c_str());
    return buf;
  }
  void print(int64_t done) {
    if (tty) {
      std::fprintf(stderr, "\r%s\033[K", line(done).c_str());
      line_open = true;
    } else {
      std::fprintf(stderr, "%s\n", line(done).c_str());
    }
    std::fflush(stderr);
    printed = true;
    last_print = Clock::now();
  }
};

Progress::Progress(std::string what, int64_t total) : impl_(std::make_shared<Impl>()) {
  impl_->what = std::move(what);
  impl_->total = std::max<int64_t>(total, 1);
}

void Progress::update(int64_t done, double loss, int64_t items) {
  Impl& m = *impl_;
  m.items += items;
  m.last_loss = loss;
  m.last_done = done;
  if (m.tty) {
    if (!m.printed || done >= m.total || Impl::Clock::now() - m.last_print >= std::chrono::milliseconds(250)) m.print(done);
  } else {
    const int decile = int(std::min<int64_t>(done, m.total) * 10 / m.total);
    if (decile > m.last_decile) {
      m.last_decile = decile;
      m.print(done);
    }
  }
}

void Progress::finish() {
  Impl& m = *impl_;
  if (m.finished) return;
  m.finished = true;
  if (m.tty) {
    m.print(m.last_done);
    std::fputc('\n', stderr);
  } else if (m.last_decile < 10) {
    m.print(m.last_done);
  }
  std::fflush(stderr);
}

// ---- option helpers -----------------------------------------------------------------------------

std::string fmt(double v, int digits) {
  std::ostringstream s;
  s << std::setprecision(digits) << v;
  return s.str();
}

std::vector<double> parse_number_list(const std::string& option, const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    while (used < item.size() && item[used] == ' ') ++used;
    if (item.empty() || used != item.size() || !std::isfinite(v))
      throw std::invalid_argument("--" + option + ": invalid number '" + item + "' in '" + text + "'");
    out.push_back(v);
  }
  if (out.empty()) throw std::invalid_argument("--" + option + ": needs at least one value");
  return out;
}

std::vector<std::string> parse_name_list(const std::string& option, const std::string& text,
                                         const std::vector<std::string>& allowed) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), item) == allowed.end()) {
      std::string names;
      for (const std::string& a : allowed) names += (names.empty() ? "" : ", ") + a;
      throw std::invalid_argument("--" + option + ": unknown value '" + item + "' (one of: " + names + ")");
    }
    out.push_back(item);
  }
  if (out.empty()) throw std::invalid_argument("--" + option + ": needs at least one value");
  return out;
}

void require_positive(const std::string& option, double v) {
  if (!(v > 0)) throw std::invalid_argument("--" + option + ": must be > 0, got " + format_number(v));
  if (std::isinf(v)) throw std::invalid_argument("--" + option + ": must be finite, got " + format_number(v));
}

void require_non_negative(const std::string& option, double v) {
  if (!(v >= 0)) throw std::invalid_argument("--" + option + ": must be >= 0, got " + format_number(v));
  if (std::isinf(v)) throw std::invalid_argument("--" + option + ": must be finite, got " + format_number(v));
}

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("verify: missing " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
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
      if (png.size() < 8 || png.compare(1, 3, "PNG") != 0) throw std::runtime_error("verify: " + plot + ".png is not a PNG");
    }
    ++checked;
  }
  std::printf("verify: %d run folders, their CSVs, metrics.json, claims.json and plots parse\n", checked);
  return checked;
}

// ---- run_main -----------------------------------------------------------------------------------

int run_main(const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    std::fprintf(stderr, "error: %s\n", msg.c_str());
  } catch (...) {
    std::fprintf(stderr, "error: unknown exception\n");
  }
  return 2;
}

}  // namespace seqgrad::experiments
