// The report generator, claims.json and a small JSON reader. See report.h.
#include "experiments/report/report.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "nn/io/file_io.h"

namespace seqgrad::experiments {

namespace fs = std::filesystem;

std::vector<RunInfo> find_runs(const fs::path& runs_dir) {
  if (!fs::exists(runs_dir))
    throw std::invalid_argument("report: --runs " + printable(runs_dir.string()) + ": no such folder");
  if (!fs::is_directory(runs_dir))
    throw std::invalid_argument("report: --runs " + printable(runs_dir.string()) +
                                ": not a folder (give the folder holding the run folders)");
  std::vector<RunInfo> runs;
  for (auto it = fs::recursive_directory_iterator(runs_dir, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_directory()) continue;
    const fs::path dir = it->path();
    if (!fs::exists(dir / "config.ini") && !fs::exists(dir / "metrics.json")) continue;
    it.disable_recursion_pending();
    fs::path rel = dir.lexically_relative(runs_dir);
    RunInfo r;
    r.dir = dir;
    auto part = rel.begin();
    r.experiment = part->string();
    fs::path rest;
    for (++part; part != rel.end(); ++part) rest /= *part;
    r.run = rest.empty() ? "(run)" : rest.generic_string();
    runs.push_back(std::move(r));
  }
  std::sort(runs.begin(), runs.end(), [](const RunInfo& a, const RunInfo& b) {
    return std::tie(a.experiment, a.run) < std::tie(b.experiment, b.run);
  });
  return runs;
}

namespace {

// Text for a Markdown table cell.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out.empty() ? " " : out;
}

// A link target relative to the report's folder; <…> when it has spaces or parentheses.
std::string link(const fs::path& target, const fs::path& report_dir) {
  std::string rel = fs::weakly_canonical(fs::absolute(target)).lexically_relative(report_dir).generic_string();
  if (rel.empty()) rel = target.generic_string();
  return rel.find_first_of(" ()<>") == std::string::npos ? rel : "<" + rel + ">";
}

// An id for an explicit HTML anchor: letters, digits, '-' and '_' only.
std::string anchor(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '-';
  return out;
}

// [text](target), built by appending (GCC 12 warns falsely (-Wrestrict) on "[" + std::string).
std::string md_link(const std::string& text, const std::string& target) {
  std::string out = "[";
  out.append(text).append("](").append(target).append(")");
  return out;
}

std::string verdict_text(const std::string& v) {
  if (v == "holds" || v == "confirmed") return "✅ " + v;
  if (v == "does not hold" || v == "not confirmed") return "❌ " + v;
  if (v == "inconclusive") return "❔ " + v;
  return v;
}

// A number's text rounded to `digits` significant digits for display; text and integers of up to
// 9 digits (counts, steps, seeds) unchanged.
std::string rounded(const std::string& text, int digits) {
  if (text.empty() || (text.find_first_of(".eE") == std::string::npos && text.size() <= 9)) return text;
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return text;
  return fmt(v, digits);
}

// metrics/<csv> as a Markdown table, numbers rounded; at most max_rows rows (then a note).
void csv_table(std::ostream& md, const fs::path& csv, size_t max_rows = 200) {
  std::istringstream in(read_file(csv));
  std::string line;
  if (!std::getline(in, line)) return;
  const std::vector<std::string> header = split_csv_line(line);
  md << "**" << csv.stem().string() << "**\n\n|";
  for (const auto& h : header) md << " " << cell(h) << " |";
  md << "\n|";
  for (size_t k = 0; k < header.size(); ++k) md << "---|";
  md << "\n";
  size_t rows = 0;
  for (; std::getline(in, line); ++rows) {
    if (rows == max_rows) continue;  // count the rest for the note
    md << "|";
    for (const auto& f : split_csv_line(line)) md << " " << cell(rounded(f, 4)) << " |";
    md << "\n";
  }
  if (rows > max_rows) md << "\n_" << rows - max_rows << " more rows in " << csv.filename().string() << "_\n";
  md << "\n";
}

std::vector<fs::path> files_in(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

namespace {

// Every run's claims.json, read once: the overview lists them all; unreadable ones keep their error.
struct ClaimsByRun {
  std::map<std::string, std::vector<Claim>> claims;  // by run dir
  std::map<std::string, std::string> errors;
  size_t total = 0, holds = 0, fails = 0;
};

ClaimsByRun read_all_claims(const std::vector<RunInfo>& runs) {
  ClaimsByRun out;
  for (const auto& r : runs) {
    if (!fs::exists(r.dir / "claims.json")) continue;
    try {
      auto& c = out.claims[r.dir.string()] = read_claims(r.dir / "claims.json");
      for (const auto& x : c) {
        ++out.total;
        out.holds += x.verdict == "holds" || x.verdict == "confirmed";
        out.fails += x.verdict == "does not hold" || x.verdict == "not confirmed";
      }
    } catch (const std::exception& e) {
      out.errors[r.dir.string()] = e.what();
    }
  }
  return out;
}

std::string run_anchor(const RunInfo& r) { return anchor("run-" + r.experiment + "-" + r.run); }

// Title, counts and the table of contents.
void render_contents(std::ostream& md, const std::string& title, const fs::path& runs_dir,
                     const std::vector<RunInfo>& runs, const std::vector<std::string>& experiments,
                     const ClaimsByRun& c) {
  md << "# " << title << "\n\n"
     << runs.size() << " run" << (runs.size() == 1 ? "" : "s") << " of " << experiments.size() << " experiment"
     << (experiments.size() == 1 ? "" : "s") << " from `" << runs_dir.generic_string() << "`";
  if (c.total)
    md << "; " << c.total << " claims checked: " << c.holds << " hold, " << c.fails << " do not hold, "
       << c.total - c.holds - c.fails << " other";
  md << ".\n\n## Contents\n\n";
  if (c.total) md << "- [Claims](#claims)\n";
  for (const auto& e : experiments) {
    md << "- [" << e << "](#" << anchor("exp-" + e) << ")\n";
    for (const auto& r : runs)
      if (r.experiment == e) md << "  - [" << r.run << "](#" << run_anchor(r) << ")\n";
  }
  md << "\n";
}

// The rows of a claims table; with `where`, two leading columns naming the experiment and run.
void render_claim_rows(std::ostream& md, const std::vector<Claim>& claims, const RunInfo* where) {
  for (const auto& c : claims) {
    md << "| ";
    if (where) md << cell(where->experiment) << " | [" << cell(where->run) << "](#" << run_anchor(*where) << ") | ";
    md << cell(c.claim) << " | " << cell(c.expected) << " | " << cell(c.measured) << " | "
       << cell(verdict_text(c.verdict)) << " |\n";
  }
}

// Every claim of every run in one table, with the verdict rule they are judged by.
void render_claims(std::ostream& md, const std::vector<RunInfo>& runs, const ClaimsByRun& c) {
  if (!c.total) return;
  md << "<a id=\"claims\"></a>\n\n## Claims\n\n**Verdict rule.** " << kVerdictRule
     << "\n\n| Experiment | Run | Claim | Expected | Measured | Verdict |\n|---|---|---|---|---|---|\n";
  for (const auto& r : runs)
    if (auto it = c.claims.find(r.dir.string()); it != c.claims.end()) render_claim_rows(md, it->second, &r);
  md << "\n";
}

// One italic line from env.json: commit, compiler, threads, CPU, seconds, data files.
void render_env(std::ostream& md, const fs::path& env_json) {
  if (!fs::exists(env_json)) return;
  try {
    Json env = read_json_file(env_json);
    std::string line;
    auto add = [&](const char* key, const std::string& label) {
      if (const Json* v = env.find(key)) line += (line.empty() ? "" : " · ") + label + " " + v->display();
    };
    add("git_commit", "commit");
    add("compiler", "compiler");
    add("threads", "threads");
    add("cpu_model", "CPU");
    add("elapsed_seconds", "seconds");
    if (const Json* files = env.find("data_files"); files && files->kind == Json::Kind::array)
      for (const Json& f : files->items)
        if (const Json* path = f.find("path"), *sha = f.find("sha256"); path && sha)
          line += " · data " + path->display() + " (sha256 " + sha->display().substr(0, 12) + "…)";
    md << "_" << line << "_\n\n";
  } catch (const std::exception& ex) {
    md << "_env.json unreadable: " << ex.what() << "_\n\n";
  }
}

// metrics.json as a two-column table.
void render_metrics(std::ostream& md, const fs::path& metrics_json) {
  if (!fs::exists(metrics_json)) {
    md << "**Final metrics:** none (no metrics.json: the run did not finish)\n\n";
    return;
  }
  try {
    Json m = read_json_file(metrics_json);
    if (m.kind != Json::Kind::object) throw std::invalid_argument("not a JSON object");
    md << "**Final metrics**\n\n| Metric | Value |\n|---|---|\n";
    for (const auto& [k, v] : m.members) md << "| " << cell(k) << " | " << cell(rounded(v.display(), 6)) << " |\n";
    md << "\n";
  } catch (const std::exception& ex) {
    md << "**Final metrics:** metrics.json unreadable: " << ex.what() << "\n\n";
  }
}

// Links to the run's CSVs and files, and its config.ini folded.
void render_files(std::ostream& md, const RunInfo& r, const fs::path& report_dir) {
  std::vector<std::string> files;
  for (const auto& csv : files_in(r.dir / "metrics", ".csv"))
    files.push_back(md_link(csv.filename().string(), link(csv, report_dir)));
  for (const char* f : {"config.ini", "env.json", "metrics.json", "claims.json", "checkpoint.sgck"})
    if (fs::exists(r.dir / f)) files.push_back(md_link(f, link(r.dir / f, report_dir)));
  if (!files.empty()) {
    md << "Files:";
    for (size_t k = 0; k < files.size(); ++k) md << (k ? ", " : " ") << files[k];
    md << "\n\n";
  }
  if (fs::exists(r.dir / "config.ini"))
    md << "<details><summary>Configuration</summary>\n\n```ini\n"
       << read_file(r.dir / "config.ini") << "```\n\n</details>\n\n";
}

// One run: environment, claims, final metrics, summary tables, plots, files.
void render_run(std::ostream& md, const RunInfo& r, const ClaimsByRun& c, const fs::path& report_dir) {
  md << "<a id=\"" << run_anchor(r) << "\"></a>\n\n### " << r.experiment << " / " << r.run << "\n\n";
  render_env(md, r.dir / "env.json");
  if (auto e = c.errors.find(r.dir.string()); e != c.errors.end())
    md << "**Claims:** claims.json unreadable: " << e->second << "\n\n";
  if (auto it = c.claims.find(r.dir.string()); it != c.claims.end() && !it->second.empty()) {
    md << "**Claims**\n\n| Claim | Expected | Measured | Verdict |\n|---|---|---|---|\n";
    render_claim_rows(md, it->second, nullptr);
    md << "\n";
  }
  render_metrics(md, r.dir / "metrics.json");
  for (const auto& csv : files_in(r.dir / "metrics", ".csv")) {
    if (csv.filename().string().rfind("summary", 0) != 0) continue;
    try {
      csv_table(md, csv);
    } catch (const std::exception& ex) {
      md << "**" << csv.filename().string() << ":** unreadable: " << ex.what() << "\n\n";
    }
  }
  for (const auto& png : files_in(r.dir / "plots", ".png"))
    md << "![" << r.experiment << " / " << r.run << " / " << png.stem().string() << "](" << link(png, report_dir)
       << ")\n\n";
  render_files(md, r, report_dir);
}

}  // namespace

std::string render_report(const fs::path& runs_dir, const fs::path& report_path, const std::string& title) {
  const std::vector<RunInfo> runs = find_runs(runs_dir);
  const fs::path report_dir = fs::weakly_canonical(fs::absolute(report_path)).parent_path();
  std::vector<std::string> experiments;
  for (const auto& r : runs)
    if (experiments.empty() || experiments.back() != r.experiment) experiments.push_back(r.experiment);
  const ClaimsByRun claims = read_all_claims(runs);
  std::ostringstream md;
  render_contents(md, title, runs_dir, runs, experiments, claims);
  render_claims(md, runs, claims);
  for (const auto& e : experiments) {
    md << "<a id=\"" << anchor("exp-" + e) << "\"></a>\n\n## " << e << "\n\n";
    for (const auto& r : runs)
      if (r.experiment == e) render_run(md, r, claims, report_dir);
  }
  return md.str();
}

size_t write_report(const fs::path& runs_dir, const fs::path& report_path, const std::string& title) {
  std::string text = render_report(runs_dir, report_path, title);
  if (report_path.has_parent_path()) fs::create_directories(report_path.parent_path());
  nn::write_file_atomic(report_path.string(), text);
  return find_runs(runs_dir).size();
}

}  // namespace seqgrad::experiments
