// Declarative options of an experiment program. See options.h.
#include "experiments/common/options.h"

#include <oneapi/tbb/global_control.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "experiments/common/io.h"

namespace seqgrad::experiments {

namespace fs = std::filesystem;

std::string option_value_text(const std::string& v) { return v; }
std::string option_value_text(bool v) { return v ? "true" : "false"; }
std::string option_value_text(double v) { return format_number(v); }
std::string option_value_text(int64_t v) { return std::to_string(v); }
std::string option_value_text(int v) { return std::to_string(v); }
std::string option_value_text(uint64_t v) { return std::to_string(v); }

namespace {

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
  if (append_as<std::string>(a, out) || append_as<bool>(a, out) || append_as<int>(a, out) || append_as<long>(a, out) ||
      append_as<long long>(a, out) || append_as<unsigned>(a, out) || append_as<unsigned long>(a, out) ||
      append_as<unsigned long long>(a, out) || append_as<double>(a, out) || append_as<float>(a, out))
    return out;
  throw std::logic_error("--" + name + ": resolved_config cannot print this option's type (add it in options.cpp)");
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
    bool is_float =
        dynamic_cast<const po::typed_value<double>*>(sem) || dynamic_cast<const po::typed_value<float>*>(sem);
    for (const std::string& v : o.value) {
      if (is_unsigned && trim(v).starts_with("-"))
        throw std::invalid_argument("--" + o.string_key + ": invalid value '" + v + "': must not be negative");
      if (is_float && non_finite_number(v))
        throw std::invalid_argument("--" + o.string_key + ": invalid value '" + v + "': must be a finite number");
    }
  }
}

// Boost's prefix guessing off: an abbreviation is an unknown option, never a different one.
constexpr int kCommandLineStyle = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;

// Stores the options of config file `path` into vm (values already there are kept); every error
// names the file.
void store_config(const std::string& path, const po::options_description& all, po::variables_map& vm) {
  std::string text;
  try {
    text = read_file(path, 1 << 20);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("--config: cannot read config file: ") + e.what());
  }
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  in.clear();
  in.seekg(0);
  try {
    po::parsed_options parsed = po::parse_config_file(in, all, /*allow_unregistered=*/false);
    for (const po::option& o : parsed.options)
      if (o.string_key == "config" || o.string_key == "help")
        throw std::invalid_argument("option '" + o.string_key + "' is not allowed in a config file");
    reject_unusable_values(parsed, all);
    po::store(parsed, vm);
  } catch (const po::error& e) {
    throw std::invalid_argument(option_error(e, lines) + " (in config file " + path + ")");
  } catch (const std::invalid_argument& e) {  // our own checks
    throw std::invalid_argument(std::string(e.what()) + " (in config file " + path + ")");
  }
}

}  // namespace

// ---- Program ------------------------------------------------------------------------------------

struct Program::Impl {
  std::string name, description;
  po::options_description specific;
  po::options_description common{"Common options"};
  std::vector<std::pair<std::string, Fill>> table;  // every declared option, in declaration order
  po::variables_map vm;
  std::vector<std::string> given;  // options the user set
  std::unique_ptr<tbb::global_control> threads_control;
  std::vector<std::string> argv;
  Impl(std::string n, std::string d) : name(std::move(n)), description(std::move(d)), specific(name + " options") {}
};

Program::Program(std::string name, std::string description)
    : impl_(std::make_shared<Impl>(std::move(name), std::move(description))) {
  check_name("program name", impl_->name);
  impl_->common.add_options()                 //
      ("help,h", "print this help and exit")  //
      ("config", po::value<std::string>()->value_name("FILE"),
       "read options from an .ini file (key = value, keys are option names); the command line wins");
  auto add_common = [&](auto value, const std::string& opt, const char* value_name, const std::string& help) {
    using T = decltype(value);
    impl_->table.push_back({opt, [opt, value](po::variables_map& vm, bool) {
                              vm.insert({opt, po::variable_value(value, false)});
                            }});
    impl_->common.add_options()(opt.c_str(), po::value<T>()->value_name(value_name),
                                (help + " " + describe(value, value)).c_str());
  };
  add_common(uint64_t(1), "seed", "N", "random seed (unsigned 64-bit)");
  add_common(int(0), "threads", "N", "TBB worker thread limit, 0 = all cores (results do not depend on it)");
  add_common(std::string("runs"), "out", "DIR", "runs are written under DIR/<program>/<run>");
  impl_->table.push_back({"resume", [](po::variables_map& vm, bool) {
                            vm.insert({"resume", po::variable_value(false, false)});
                          }});
  impl_->common.add_options()(
      "resume", po::value<bool>()->implicit_value(true, "true")->value_name("BOOL"),
      "continue a stopped run in --out: finished units are read back, not redone (same config)");
  impl_->table.push_back({"quick", [](po::variables_map& vm, bool) {
                            vm.insert({"quick", po::variable_value(false, false)});
                          }});
  impl_->common.add_options()("quick", po::value<bool>()->implicit_value(true, "true")->value_name("BOOL"),
                              "a fast, reduced run (smoke test): every option not set takes its --quick value");
}

void Program::declare(const std::string& name, po::value_semantic* semantic, const std::string& help,
                      const std::string& defaults, Fill fill) {
  for (const auto& [known, unused] : impl_->table)
    if (known == name) throw std::logic_error("option --" + name + " declared twice");
  impl_->table.push_back({name, std::move(fill)});
  impl_->specific.add_options()(name.c_str(), semantic, (help + " " + defaults).c_str());
}

void Program::flag(const std::string& name, const std::string& help) {
  declare(name, po::value<bool>()->implicit_value(true, "true")->value_name("BOOL"), help, "(default: false)",
          [name](po::variables_map& vm, bool) {
            vm.insert({name, po::variable_value(false, false)});
          });
}

const std::string& Program::name() const { return impl_->name; }
const po::variables_map& Program::vm() const { return impl_->vm; }
const std::vector<std::string>& Program::command_line() const { return impl_->argv; }
bool Program::given(const std::string& option) const {
  return std::find(impl_->given.begin(), impl_->given.end(), option) != impl_->given.end();
}

std::string option_error(const po::error& e, const std::vector<std::string>& tokens) {
  for (const std::string& t : tokens)
    if (t.find('%') != std::string::npos) return "invalid option or value in '" + t + "'";
  return e.what();
}

bool Program::parse(int argc, char** argv) {
  Impl& m = *impl_;
  m.argv.assign(argv, argv + argc);
  m.vm.clear();
  m.given.clear();
  po::options_description all;
  all.add(m.specific).add(m.common);
  try {
    po::parsed_options parsed = po::command_line_parser(argc, argv).options(all).style(kCommandLineStyle).run();
    reject_unusable_values(parsed, all);
    po::store(parsed, m.vm);
  } catch (const po::error& e) {
    throw std::invalid_argument(option_error(e, m.argv));
  }
  if (m.vm.count("help")) {
    std::cout << "Usage: " << m.name << " [options]\n" << m.description << "\n\n" << all << std::flush;
    return false;
  }
  // Values already stored from the command line are kept: po::store never overwrites them.
  if (m.vm.count("config")) store_config(m.vm["config"].as<std::string>(), all, m.vm);
  for (const auto& [name, unused] : m.table)
    if (m.vm.count(name)) m.given.push_back(name);
  // The table fills every option the user did not set, with its quick value when quick is on,
  // however quick was given.
  const bool q = m.vm.count("quick") && m.vm["quick"].as<bool>();
  for (const auto& [name, fill] : m.table)
    if (!m.vm.count(name)) fill(m.vm, q);
  try {
    po::notify(m.vm);
  } catch (const po::error& e) {
    throw std::invalid_argument(option_error(e, m.argv));
  }
  const int threads = m.vm["threads"].as<int>();
  if (threads < 0)
    throw std::invalid_argument("--threads: invalid value '" + std::to_string(threads) +
                                "': must be >= 0 (0 = all cores)");
  if (m.vm["out"].as<std::string>().empty()) throw std::invalid_argument("--out: must not be empty");
  m.threads_control.reset();
  if (threads > 0)
    m.threads_control =
        std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, size_t(threads));
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
  std::string out = "# " + m.name + ": every option with the value that ran (usable as --config)\n";
  for (const auto& [key, unused] : m.table) {
    auto it = m.vm.find(key);
    if (it == m.vm.end() || it->second.empty()) continue;
    for (const std::string& v : option_text(key, it->second.value())) out += key + " = " + v + "\n";
  }
  return out;
}

// ---- option helpers -----------------------------------------------------------------------------

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
