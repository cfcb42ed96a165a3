// The experiment report: every run folder under a directory (config.ini, env.json, metrics.json,
// claims.json, metrics/*.csv, plots/*.png) collected into one Markdown file with a table of
// contents, the final metrics as tables, the guide's claims next to the measured values, and the
// plots embedded by relative links.
//
//   experiments::write_claims(run, {{"gradient vanishes like w^T", "|dh_T/dh_0| = 0.9^50 = 5.2e-3",
//                            experiments::format_number(g), "holds"}});
//   experiments::write_report("runs", "report.md");        // or the program: report --runs runs --out report.md
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/common/claims.h"
#include "experiments/common/io.h"

namespace seqgrad::experiments {

// One run folder found under the runs directory.
struct RunInfo {
  std::string experiment;  // first path component below the runs directory (the program name)
  std::string run;         // the rest of the path (the run name)
  std::filesystem::path dir;
};
// Every folder under `runs_dir` holding config.ini or metrics.json, sorted by path; the search does
// not descend into a run folder. Throws naming `runs_dir` when it is not a directory.
std::vector<RunInfo> find_runs(const std::filesystem::path& runs_dir);

// The report as Markdown: the claims table; then per run its claims, final metrics (numbers shown
// to 6 significant digits; metrics.json keeps them exact), every metrics/summary*.csv rendered as a
// table (numbers to 4 significant digits, at most 200 rows), the plots, and links to the files. Links
// are relative to the folder report.md will be written to.
std::string render_report(const std::filesystem::path& runs_dir, const std::filesystem::path& report_path,
                          const std::string& title = "seqgrad experiment report");
// render_report written to report_path (atomically); returns the number of runs it holds.
size_t write_report(const std::filesystem::path& runs_dir, const std::filesystem::path& report_path,
                    const std::string& title = "seqgrad experiment report");

}  // namespace seqgrad::experiments
