// The report tool: run folders collected into one Markdown file (claims with the verdict rule,
// metrics, summary tables rounded, plot links), and its errors.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/report/report.h"
#include "temp_dir.h"

using namespace seqgrad;
namespace fs = std::filesystem;
using seqgrad::testing::TempDir;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("Report: two runs with metrics tables, claims and plot links", "[experiments]") {
  TempDir tmp("expc-report");
  const fs::path runs = tmp.path / "runs";
  // Two fake run folders written by hand (as an experiment would leave them).
  const fs::path a = runs / "alpha" / "small", b = runs / "beta" / "big";
  for (const auto& d : {a, b}) {
    fs::create_directories(d / "plots");
    fs::create_directories(d / "metrics");
    std::ofstream(d / "config.ini") << "steps = 5\n";
    std::ofstream(d / "metrics" / "train.csv") << "step,loss\n1,0.5\n";
  }
  std::ofstream(a / "metrics.json") << "{\"loss\": 0.125, \"name\": \"a|b\"}\n";
  std::ofstream(b / "metrics.json") << "{\"accuracy\": 0.9875}\n";
  std::ofstream(a / "plots" / "loss.png") << "\x89PNG fake";
  experiments::write_claims(
      a, {{"gradients vanish", "< 1e-3", "4.2e-5", "holds"}, {"LSTM beats RNN", "yes", "no", "does not hold"}});
  CHECK_THROWS_WITH(experiments::write_claims(b, {{"c", "e", "m", "maybe"}}), Catch::Contains("maybe"));
  REQUIRE(experiments::read_claims(a / "claims.json").size() == 2);

  const fs::path report = tmp.path / "report.md";
  CHECK(experiments::write_report(runs, report) == 2);
  const std::string md = slurp(report);
  CHECK_THAT(md, Catch::Contains("# seqgrad experiment report") && Catch::Contains("## Contents") &&
                     Catch::Contains("## alpha") && Catch::Contains("## beta") && Catch::Contains("### alpha / small"));
  CHECK_THAT(md, Catch::Contains("| Metric | Value |") && Catch::Contains("| loss | 0.125 |") &&
                     Catch::Contains("| name | a\\|b |") && Catch::Contains("| accuracy | 0.9875 |"));
  CHECK_THAT(md, Catch::Contains("| gradients vanish | < 1e-3 | 4.2e-5 | ✅ holds |") &&
                     Catch::Contains("| LSTM beats RNN | yes | no | ❌ does not hold |"));
  CHECK_THAT(md, Catch::Contains("](runs/alpha/small/plots/loss.png)") &&
                     Catch::Contains("(runs/beta/big/metrics/train.csv)"));
  CHECK(fs::exists(tmp.path / "runs/alpha/small/plots/loss.png"));
  CHECK_THAT(md, Catch::Contains("**Verdict rule.** A comparison needs at least 3 seeds"));
  CHECK_THROWS_WITH(experiments::write_report(tmp.path / "none", report),
                    Catch::Contains("none") && Catch::Contains("no such folder"));
  // Issue 12: a file given as --runs said "does not exist".
  CHECK_THROWS_WITH(experiments::write_report(report, tmp.path / "r2.md"),
                    Catch::Contains("report.md") && Catch::Contains("not a folder"));

  CHECK_THROWS_WITH(experiments::parse_json("{\"a\": [1, 2,]}", "x.json"),
                    Catch::Contains("x.json") && Catch::Contains("line 1"));
  CHECK(experiments::parse_json("\"\\u00e9\\ud83d\\ude00\"").text == "é😀");
}

TEST_CASE("Report: summary CSVs become tables with rounded numbers, CSV lines split with quotes", "[experiments]") {
  using experiments::split_csv_line;
  CHECK(split_csv_line("a,1.5,") == std::vector<std::string>{"a", "1.5", ""});
  CHECK(split_csv_line("\"x, y\",\"say \"\"hi\"\"\"\r") == std::vector<std::string>{"x, y", "say \"hi\""});
  CHECK_THROWS_WITH(split_csv_line("\"open,1"), Catch::Contains("unterminated"));

  TempDir tmp("expc-summary");
  const fs::path run = tmp.path / "runs" / "gamma" / "task";
  fs::create_directories(run / "metrics");
  std::ofstream(run / "config.ini") << "seed = 1\n";
  std::ofstream(run / "metrics.json") << "{\"bpc\": 2.123456789, \"steps\": 300}\n";
  std::ofstream(run / "metrics" / "summary.csv")
      << "cell,accuracy,note\nlstm,0.912345678,\"a, b\"\ngru,12345678901,x\n";
  std::ofstream(run / "metrics" / "curve.csv") << "step,loss\n1,0.5\n";
  const std::string md = experiments::render_report(tmp.path / "runs", tmp.path / "report.md");
  CHECK_THAT(md, Catch::Contains("| cell | accuracy | note |") && Catch::Contains("| lstm | 0.9123 | a, b |") &&
                     Catch::Contains("| gru | 1.235e+10 | x |"));
  CHECK_THAT(md, Catch::Contains("| bpc | 2.12346 |") && Catch::Contains("| steps | 300 |"));
  CHECK_THAT(md, !Catch::Contains("| step | loss |"));  // only summary*.csv become tables
}
