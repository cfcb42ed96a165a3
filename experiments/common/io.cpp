// Text and file helpers. See io.h.
#include "experiments/common/io.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "nn/io/file_io.h"

namespace seqgrad::experiments {

void require_regular_file(const fs::path& path) {
  const std::string name = printable(path.string());
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) throw std::runtime_error(name + ": file not found");
  if (fs::is_directory(st)) throw std::runtime_error(name + ": is a folder, expected a file");
  if (!fs::is_regular_file(st)) throw std::runtime_error(name + ": not a regular file (a device, pipe or socket)");
}

std::string read_file(const fs::path& path, int64_t max_bytes) {
  require_regular_file(path);
  const std::string name = printable(path.string());
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && int64_t(size) > max_bytes)
    throw std::runtime_error(name + ": " + std::to_string(size) + " bytes, more than the limit of " +
                             std::to_string(max_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(name + ": cannot open file for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw std::runtime_error(name + ": read error");
  return std::move(buffer).str();
}

void write_file(const fs::path& path, const std::string& text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  nn::write_file_atomic(path.string(), text);
}

std::vector<std::string> split_csv_line(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) fields.emplace_back();
    else if (c != '\r' || quoted) fields.back() += c;
  }
  if (quoted) throw std::invalid_argument("csv: unterminated quote in line '" + printable(line) + "'");
  return fields;
}

Json parse_json(std::string_view text, const std::string& what) {
  try {
    return nn::parse_json(text);
  } catch (const nn::JsonError& e) {
    throw std::invalid_argument(what + ": " + e.what());
  }
}

Json read_json_file(const fs::path& path) { return parse_json(read_file(path), printable(path.string())); }

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

std::string fmt(double v, int digits) {
  std::ostringstream s;
  s << std::setprecision(digits) << v;
  return s.str();
}

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += char(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

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

std::string sha256_file(const fs::path& file) {
  require_regular_file(file);
  const CommandResult r = run_command("sha256sum -b -- " + shell_quote(file.string()) + " 2>/dev/null");
  const std::string digest = r.output.substr(0, std::min<size_t>(64, r.output.size()));
  if (r.status != 0 || digest.size() != 64) throw std::runtime_error(printable(file.string()) + ": sha256sum failed");
  return digest;
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

void check_name(const std::string& what, const std::string& name) {
  bool ok = !name.empty() && name[0] != '.';
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
  if (!ok) throw std::invalid_argument(what + " '" + name + "': use letters, digits, '_', '-' and '.' only");
}
}  // namespace seqgrad::experiments
