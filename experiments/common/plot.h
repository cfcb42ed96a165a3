// gnuplot line plots of a run's CSVs (PNG, and SVG next to it), one line per y column, or one line
// per distinct value of `group_by` when given (per y column and value when there are several y).
// <run>/plots/<name>.gp is the script that drew them (edit it and run `gnuplot <name>.gp` inside
// plots/). The environment variable SEQGRAD_GNUPLOT overrides the gnuplot executable.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace seqgrad::experiments {

struct PlotSpec {
  std::string name;  // <run>/plots/<name>.png
  std::string csv;   // a CsvLog name of this run
  std::string x;
  std::vector<std::string> y;
  std::string group_by = "";
  bool log_y = false;
  std::string title = "", x_label = "", y_label = "";
};

// Draws `spec` from <run_dir>/metrics/<spec.csv>.csv (whose header is `columns`) into
// <run_dir>/plots/. `origin` names the program and run in the script's header. Throws naming the
// plot on an unknown column, a missing gnuplot (saying how to install it) or a gnuplot failure.
void render_plot(const std::filesystem::path& run_dir, const std::vector<std::string>& columns, const PlotSpec& spec,
                 const std::string& origin);

}  // namespace seqgrad::experiments
