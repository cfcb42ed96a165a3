// The report generator, claims.json and a small JSON reader. See report.h.
#include "experiments/report/report.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "nn/file_io.h"

namespace seqgrad::experiments {

namespace fs = std::filesystem;

std::vector<RunInfo> find_runs(const fs::path& runs_dir) {
  if (!fs::is_directory(runs_dir)) throw std::invalid_argument("report: runs directory '" + runs_dir.string() + "' does not exist");
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

std::string render_report(const fs::path& runs_dir, const fs::path& report_path, const std::string& title) {
  const std::vector<RunInfo> runs = find_runs(runs_dir);
  const fs::path report_dir = fs::weakly_canonical(fs::absolute(report_path)).parent_path();
  std::ostringstream md;
  std::vector<std::string> experiments;
  for (const auto& r : runs)
    if (experiments.empty() || experiments.back() != r.experiment) experiments.push_back(r.experiment);

  // Read every claims.json first: the overview lists them all.
  std::map<std::string, std::vector<Claim>> claims;  // by run dir
  std::map<std::string, std::string> claim_errors;
  size_t n_claims = 0, n_holds = 0, n_fails = 0;
  for (const auto& r : runs) {
    if (!fs::exists(r.dir / "claims.json")) continue;
    try {
      auto& c = claims[r.dir.string()] = read_claims(r.dir / "claims.json");
      for (const auto& x : c) {
        ++n_claims;
        n_holds += x.verdict == "holds" || x.verdict == "confirmed";
        n_fails += x.verdict == "does not hold" || x.verdict == "not confirmed";
      }
    } catch (const std::exception& e) {
      claim_errors[r.dir.string()] = e.what();
    }
  }

  md << "# " << title << "\n\n"
     << runs.size() << " run" << (runs.size() == 1 ? "" : "s") << " of " << experiments.size() << " experiment"
     << (experiments.size() == 1 ? "" : "s") << " from `" << runs_dir.generic_string() << "`";
  if (n_claims) md << "; " << n_claims << " claims checked: " << n_holds << " hold, " << n_fails << " do not hold, "
                   << n_claims - n_holds - n_fails << " other";
  md << ".\n\n## Contents\n\n";
  if (n_claims) md << "- [Claims](#claims)\n";
  for (const auto& e : experiments) {
    md << "- [" << e << "](#" << anchor("exp-" + e) << ")\n";
    for (const auto& r : runs)
      if (r.experiment == e) md << "  - [" << r.run << "](#" << anchor("run-" + e + "-" + r.run) << ")\n";
  }
  md << "\n";

  if (n_claims) {
    md << "<a id=\"claims\"></a>\n\n## Claims\n\n| Experiment | Run | Claim | Expected | Measured | Verdict |\n|---|---|---|---|---|---|\n";
    for (const auto& r : runs) {
      auto it = claims.find(r.dir.string());
      if (it == claims.end()) continue;
      for (const auto& c : it->second)
        md << "| " << cell(r.experiment) << " | [" << cell(r.run) << "](#" << anchor("run-" + r.experiment + "-" + r.run) << ") | "
           << cell(c.claim) << " | " << cell(c.expected) << " | " << cell(c.measured) << " | " << cell(verdict_text(c.verdict)) << " |\n";
    }
    md << "\n";
  }

  for (const auto& e : experiments) {
    md << "<a id=\"" << anchor("exp-" + e) << "\"></a>\n\n## " << e << "\n\n";
    for (const auto& r : runs) {
      if (r.experiment != e) continue;
      md << "<a id=\"" << anchor("run-" + e + "-" + r.run) << "\"></a>\n\n### " << e << " / " << r.run << "\n\n";
      // Environment, one line.
      if (fs::exists(r.dir / "env.json")) {
        try {
          Json env = read_json_file(r.dir / "env.json");
          std::vector<std::string> parts;
          auto add = [&](const char* key, const std::string& label) {
            if (const Json* v = env.find(key)) parts.push_back(label + " " + v->display());
          };
          add("git_commit", "commit");
          add("compiler", "compiler");
          add("threads", "threads");
          add("cpu_model", "CPU");
          add("elapsed_seconds", "seconds");
          std::string line;
          for (const auto& p : parts) line += (line.empty() ? "" : " · ") + p;
          md << "_" << line << "_\n\n";
        } catch (const std::exception& ex) {
          md << "_env.json unreadable: " << ex.what() << "_\n\n";
        }
      }
      // Claims.
      auto ce = claim_errors.find(r.dir.string());
      if (ce != claim_errors.end()) md << "**Claims:** claims.json unreadable: " << ce->second << "\n\n";
      auto cl = claims.find(r.dir.string());
      if (cl != claims.end() && !cl->second.empty()) {
        md << "**Claims**\n\n| Claim | Expected | Measured | Verdict |\n|---|---|---|---|\n";
        for (const auto& c : cl->second)
          md << "| " << cell(c.claim) << " | " << cell(c.expected) << " | " << cell(c.measured) << " | " << cell(verdict_text(c.verdict)) << " |\n";
        md << "\n";
      }
      // Final metrics.
      if (fs::exists(r.dir / "metrics.json")) {
        try {
          Json m = read_json_file(r.dir / "metrics.json");
          if (m.kind != Json::Kind::object) throw std::invalid_argument("not a JSON object");
          md << "**Final metrics**\n\n| Metric | Value |\n|---|---|\n";
          for (const auto& [k, v] : m.members) md << "| " << cell(k) << " | " << cell(rounded(v.display(), 6)) << " |\n";
          md << "\n";
        } catch (const std::exception& ex) {
          md << "**Final metrics:** metrics.json unreadable: " << ex.what() << "\n\n";
        }
      } else {
        md << "**Final metrics:** none (no metrics.json: the run did not finish)\n\n";
      }
      // Summary tables.
      for (const auto& csv : files_in(r.dir / "metrics", ".csv")) {
        if (csv.filename().string().rfind("summary", 0) != 0) continue;
        try {
          csv_table(md, csv);
        } catch (const std::exception& ex) {
          md << "**" << csv.filename().string() << ":** unreadable: " << ex.what() << "\n\n";
        }
      }
      // Plots.
      for (const auto& png : files_in(r.dir / "plots", ".png"))
        md << "![" << e << " / " << r.run << " / " << png.stem().string() << "](" << link(png, report_dir) << ")\n\n";
      // Data and configuration.
      std::vector<std::string> data;
      for (const auto& csv : files_in(r.dir / "metrics", ".csv"))
        data.push_back(md_link(csv.filename().string(), link(csv, report_dir)));
      for (const char* f : {"config.ini", "env.json", "metrics.json", "claims.json", "checkpoint.sgck"})
        if (fs::exists(r.dir / f)) data.push_back(md_link(f, link(r.dir / f, report_dir)));
      if (!data.empty()) {
        md << "Files:";
        for (size_t k = 0; k < data.size(); ++k) md << (k ? ", " : " ") << data[k];
        md << "\n\n";
      }
      if (fs::exists(r.dir / "config.ini"))
        md << "<details><summary>Configuration</summary>\n\n```ini\n" << read_file(r.dir / "config.ini") << "```\n\n</details>\n\n";
    }
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
