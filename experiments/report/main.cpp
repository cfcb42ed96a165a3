// report — collects every run folder under --runs into one Markdown report: a table of contents,
// the guide's claims next to the measured values, per run the final metrics as a table and the
// plots embedded by relative links.
//   report --runs runs --out report.md
#include <cstdio>
#include <iostream>

#include "experiments/common/options.h"
#include "experiments/report/report.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  return seqgrad::experiments::run_main([&] {
    po::options_description options("report options");
    options.add_options()                       //
        ("help,h", "print this help and exit")  //
        ("runs", po::value<std::string>()->default_value("runs")->value_name("DIR"),
         "folder holding the run folders")  //
        ("out", po::value<std::string>()->default_value("report.md")->value_name("FILE"),
         "the Markdown report to write")  //
        ("title", po::value<std::string>()->default_value("seqgrad experiment report"), "the report's title");
    po::variables_map vm;
    try {
      constexpr int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
      po::store(po::command_line_parser(argc, argv).options(options).style(style).run(), vm);
      po::notify(vm);
    } catch (const po::error& e) {
      throw std::invalid_argument(seqgrad::experiments::option_error(e, std::vector<std::string>(argv, argv + argc)));
    }
    if (vm.count("help")) {
      std::cout << "Usage: report [options]\nCollects experiment run folders into one Markdown report.\n\n" << options;
      return 0;
    }
    const std::string out = vm["out"].as<std::string>();
    size_t n = seqgrad::experiments::write_report(vm["runs"].as<std::string>(), out, vm["title"].as<std::string>());
    std::fprintf(stderr, "report: %zu runs -> %s\n", n, out.c_str());
    return 0;
  });
}
