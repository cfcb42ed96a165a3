// The experiment report: every run folder under a directory (config.ini, env.json, metrics.json,
// claims.json, metrics/*.csv, plots/*.png) collected into one Markdown file with a table of
// contents, the final metrics as tables, the guide's claims next to the measured values, and the
// plots embedded by relative links. Also the claims.json writer experiments use, and the small
// JSON reader both need (no dependency beyond the standard library).
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

#include "experiments/common/experiment.h"
#include "nn/json.h"

namespace seqgrad::experiments {

// One claim of the guide, checked by an experiment. verdict: "holds", "does not hold" or
// "inconclusive".
struct Claim {
  std::string claim, expected, measured, verdict;
};

// <run>/claims.json: a JSON list of {"claim", "expected", "measured", "verdict"}. Throws
// std::invalid_argument for a verdict outside the three above, naming the claim.
void write_claims(const Run& run, const std::vector<Claim>& claims);
void write_claims(const std::filesystem::path& run_dir, const std::vector<Claim>& claims);
std::vector<Claim> read_claims(const std::filesystem::path& claims_json);

// A parsed JSON value (nn/json.h): numbers keep their source text, objects their key order.
using Json = nn::Json;
// Throws std::invalid_argument("<what>: <problem> at line L, column C") on malformed input.
Json parse_json(std::string_view text, const std::string& what = "json");
Json read_json_file(const std::filesystem::path& path);

// The fields of one CSV line as CsvLog writes it: comma-separated, a field in double quotes may hold
// commas and doubled quotes (""). Throws std::invalid_argument on an unterminated quote.
std::vector<std::string> split_csv_line(std::string_view line);

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
