// gnuplot rendering of a run's CSVs. See plot.h.
#include "experiments/common/plot.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "experiments/common/io.h"

namespace seqgrad::experiments {

namespace {

// `s` as a gnuplot double-quoted string.
std::string gp_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

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
    const std::vector<std::string> fields = split_csv_line(line);
    if (column < fields.size() && seen.insert(fields[column]).second) values.push_back(fields[column]);
  }
  return values;
}

}  // namespace
void render_plot(const fs::path& run_dir, const std::vector<std::string>& columns, const PlotSpec& spec,
                 const std::string& origin) {
  const std::string what = "plot '" + spec.name + "'";
  check_name("plot", spec.name);
  const fs::path csv_path = run_dir / "metrics" / (spec.csv + ".csv");
  auto column = [&](const std::string& c) {
    auto pos = std::find(columns.begin(), columns.end(), c);
    if (pos == columns.end()) throw std::invalid_argument(what + ": csv '" + spec.csv + "' has no column '" + c + "'");
    return size_t(pos - columns.begin());
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
  if (!spec.group_by.empty()) groups = distinct_values(csv_path, column(spec.group_by));
  for (size_t yi = 0; yi < spec.y.size(); ++yi) {
    if (spec.group_by.empty()) series.push_back({spec.y[yi], "", yi + 1, 1});
    // gnuplot's default palette has 8 colours: past them the dash pattern changes instead.
    for (size_t gi = 0; gi < groups.size(); ++gi)
      series.push_back({spec.y[yi], groups[gi], gi % 8 + 1, yi + 1 + gi / 8});
  }
  const int64_t rows_per_series = [&] {
    std::ifstream in(csv_path);
    int64_t lines = std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n') - 1;
    return groups.empty() ? lines : lines / int64_t(groups.size());
  }();
  const std::string style = rows_per_series <= 60 ? "linespoints pointsize 0.8" : "lines";

  std::ostringstream gp;
  gp << "# " << (spec.title.empty() ? spec.name : spec.title) << "\n"
     << "# Written by seqgrad (" << origin << "). Edit freely, then re-render inside this folder: gnuplot " << spec.name
     << ".gp\n"
     << "set datafile separator \",\"\n"
     << "data = " << gp_quote(fs::path("..") / "metrics" / (spec.csv + ".csv")) << "\n"
     << "set title " << gp_quote(spec.title.empty() ? spec.name : spec.title) << "\n"
     << "set xlabel " << gp_quote(spec.x_label.empty() ? spec.x : spec.x_label) << "\n"
     << "set ylabel "
     << gp_quote(!spec.y_label.empty() ? spec.y_label
                 : spec.y.size() == 1  ? spec.y[0]
                                       : "")
     << "\n"
     << "set grid\nset key outside right top" << (spec.group_by.empty() ? "" : " title " + gp_quote(spec.group_by))
     << "\n"
     << "set autoscale xfix\n";
  if (spec.log_y) gp << "set logscale y\nset format y \"%.0e\"\n";
  // One datablock per group, filtered by gnuplot itself (so editing the CSV and re-running works);
  // filtering inside `plot` would break lines wherever the groups interleave.
  std::vector<std::string> plots;
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& [y, g, colour, dash] = series[i];
    const std::string title =
        g.empty() ? y : (spec.y.size() > 1 ? y + ", " : "") + g;  // the key's title names group_by
    const std::string look =
        " with " + style + " linewidth 1.5 linecolor " + std::to_string(colour) + " dashtype " + std::to_string(dash) +
        (style == "lines" ? "" : " pointtype " + std::to_string(i % 13 + 1)) + " title " + gp_quote(title);
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
  gp << "set terminal " << (cairo ? "pngcairo" : "png") << " size 960,540 noenhanced" << (cairo ? " font \",11\"" : "")
     << "\n"
     << "set output " << gp_quote(spec.name + ".png") << "\n"
     << plot_cmd << "\n"
     << "set terminal svg size 960,540 noenhanced dynamic background rgb \"white\"\n"
     << "set output " << gp_quote(spec.name + ".svg") << "\n"
     << "replot\nunset output\n";

  const fs::path plots_dir = run_dir / "plots";
  fs::create_directories(plots_dir);
  write_file(plots_dir / (spec.name + ".gp"), gp.str());
  CommandResult r = run_command("cd " + shell_quote(plots_dir.string()) + " && " + shell_quote(gnuplot.string()) + " " +
                                shell_quote(spec.name + ".gp") + " 2>&1 </dev/null");
  if (r.status != 0)
    throw std::runtime_error(what + ": gnuplot failed (" + (plots_dir / (spec.name + ".gp")).string() +
                             "): " + first_line(r.output));
}

}  // namespace seqgrad::experiments
