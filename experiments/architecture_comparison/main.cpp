// architecture_comparison — Experiment 2 (issue #5): vanilla RNN, LSTM, GRU and BiLSTM on four real
// tasks, the same embedding and hidden sizes for every cell, several seeds, mean ± std.
// Run folders under <out>/architecture_comparison/:
//   sentiment/  UCI sentiment sentences (many-to-one): test accuracy (model of the best val epoch)
//   tagging/    Brown corpus, 12 universal tags (many-to-many): test token accuracy, macro-F1
//   lm/         Moby Dick characters: validation bits per character (rnn, lstm, gru)
//   forecast/   monthly sunspots: test RMSE next to the persistence baseline (rnn, lstm, gru)
//   overall/    the four tasks side by side and the claims judged across them
// Each task folder: metrics/epochs.csv (per cell, seed and epoch: train loss, validation metric),
// metrics/curves.csv (the same averaged over seeds), metrics/final.csv (per seed), metrics/summary.csv
// (mean and std per cell), metrics/timing.csv (wall-clock and CPU seconds per epoch: measured, so NOT in
// metrics.json), plots/val_curve.png and plots/train_loss.png, metrics.json, and an empty claims.json:
// the guide's claims are judged across the tasks, once, in overall/claims.json.
// metrics.json is bitwise deterministic for a seed and config; overall/claims.json is not, because
// the speed claim quotes measured seconds.
//   architecture_comparison --quick                 # <= 4 min on 2 idle cores, real data
//   architecture_comparison --config experiments/architecture_comparison/full.ini   # full, ~1 h
//   architecture_comparison --synthetic-data DIR    # writes tiny files into DIR and runs on them
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "autograd/rng.h"
#include "experiments/architecture_comparison/architecture_comparison.h"
#include "experiments/data/data.h"
#include "experiments/common/experiment.h"
#include "experiments/common/claims.h"

using namespace seqgrad;
namespace ac = seqgrad::architecture_comparison;
namespace data = seqgrad::experiments::data;
namespace fs = std::filesystem;
namespace po = boost::program_options;
using experiments::Claim;
using experiments::fmt;

namespace {

// ---- results of one task -------------------------------------------------------------------------

struct CellStats {
  std::string cell;
  std::vector<ac::Result> seeds;
  int64_t parameters = 0, recurrent_parameters = 0;
  std::map<std::string, ac::MeanStd> metric;  // test metric -> mean ± std over seeds
  ac::MeanStd seconds, cpu_seconds;           // seconds per epoch over seeds (wall clock, process CPU)
};

struct TaskOutcome {
  std::string task, primary;  // primary metric: what the cells are compared on
  bool higher = true;
  std::vector<CellStats> cells;
  const CellStats* find(const std::string& cell) const {
    for (const auto& c : cells)
      if (c.cell == cell) return &c;
    return nullptr;
  }
};

struct TaskSpec {
  std::string name, title;
  std::vector<std::string> metrics;  // the Result::metrics keys reported; the first is the primary one
  std::function<ac::Result(ac::CellKind, const ac::Config&)> train;
};

std::string pm(const ac::MeanStd& m, int digits = 4) { return fmt(m.mean, digits) + " ± " + fmt(m.std, 2); }

// ---- claims --------------------------------------------------------------------------------------

// Signed advantage of a over b on the primary metric (> 0: a better) and the seed noise max(std).
std::pair<double, double> advantage(const TaskOutcome& t, const CellStats& a, const CellStats& b) {
  const ac::MeanStd ma = a.metric.at(t.primary), mb = b.metric.at(t.primary);
  return {t.higher ? ma.mean - mb.mean : mb.mean - ma.mean, std::max(ma.std, mb.std)};
}

Claim parameter_claim(const std::vector<const TaskOutcome*>& tasks) {
  std::string measured;
  bool ok = true, any = false;
  for (const TaskOutcome* t : tasks) {
    const CellStats *l = t->find("lstm"), *g = t->find("gru");
    if (!l || !g) continue;
    any = true;
    const double rec = 1.0 - double(g->recurrent_parameters) / double(l->recurrent_parameters);
    const double all = 1.0 - double(g->parameters) / double(l->parameters);
    ok = ok && rec >= 0.20 && rec <= 0.30;
    measured += (measured.empty() ? "" : "; ") + t->task + ": recurrent layer gru " + std::to_string(g->recurrent_parameters) +
                " vs lstm " + std::to_string(l->recurrent_parameters) + " (" + fmt(100 * rec, 3) +
                "% fewer), whole model " + std::to_string(g->parameters) + " vs " + std::to_string(l->parameters) + " (" +
                fmt(100 * all, 3) + "% fewer)";
  }
  if (!any) return {};
  return {"GRU has about 25% fewer parameters than LSTM",
          "recurrent layer (nn::Recurrent num_parameters) 20-30% smaller: 3 gate blocks (+ b_hn) instead of 4", measured,
          ok ? "holds" : "does not hold"};
}

// Judged on process CPU seconds per training epoch: on a shared machine the wall clock also counts
// the time other processes held the cores (it is reported next to it, and in timing.csv).
Claim speed_claim(const std::vector<const TaskOutcome*>& tasks) {
  std::string measured;
  double sum = 0;
  int n = 0;
  for (const TaskOutcome* t : tasks) {
    const CellStats *l = t->find("lstm"), *g = t->find("gru");
    if (!l || !g || !(l->cpu_seconds.mean > 0) || !(l->seconds.mean > 0)) continue;
    const double faster = 1.0 - g->cpu_seconds.mean / l->cpu_seconds.mean;
    const double wall_faster = 1.0 - g->seconds.mean / l->seconds.mean;
    sum += faster;
    ++n;
    measured += (measured.empty() ? "" : "; ") + t->task + ": gru " + fmt(g->cpu_seconds.mean, 3) + " CPU s/epoch vs lstm " +
                fmt(l->cpu_seconds.mean, 3) + " (" + fmt(100 * faster, 3) + "% faster; wall clock " +
                fmt(g->seconds.mean, 3) + " vs " + fmt(l->seconds.mean, 3) + " s, " + fmt(100 * wall_faster, 3) + "%)";
  }
  if (n == 0) return {};
  const double mean = sum / n;
  measured += "; mean " + fmt(100 * mean, 3) + "% (CPU time of the training passes on this machine)";
  return {"GRU trains 20-30% faster per epoch than LSTM on CPU",
          "mean over tasks of 1 - (GRU CPU s/epoch) / (LSTM CPU s/epoch) in [20%, 30%]", measured,
          mean >= 0.20 && mean <= 0.30 ? "holds" : "does not hold"};
}

Claim gru_lstm_claim(const std::vector<const TaskOutcome*>& tasks) {
  std::string measured;
  int gru_wins = 0, lstm_wins = 0, ties = 0;
  for (const TaskOutcome* t : tasks) {
    const CellStats *l = t->find("lstm"), *g = t->find("gru");
    if (!l || !g) continue;
    const auto [adv, noise] = advantage(*t, *g, *l);
    const char* who = std::abs(adv) <= noise ? "within one std" : adv > 0 ? "gru better" : "lstm better";
    (std::abs(adv) <= noise ? ties : adv > 0 ? gru_wins : lstm_wins)++;
    measured += (measured.empty() ? "" : "; ") + t->task + " " + t->primary + ": gru " + pm(g->metric.at(t->primary)) +
                ", lstm " + pm(l->metric.at(t->primary)) + " (" + who + ")";
  }
  const int n = gru_wins + lstm_wins + ties;
  if (n == 0) return {};
  // Not consistent when each wins somewhere or every difference is within the seeds' noise; one
  // cell better beyond noise on every task refutes it; a one-sided majority is inconclusive.
  const int one_sided = std::max(gru_wins, lstm_wins);
  const char* verdict = (gru_wins > 0 && lstm_wins > 0) || one_sided == 0 ? "holds"
                        : one_sided == n                                  ? "does not hold"
                        : 2 * one_sided > n                               ? "inconclusive"
                                                                          : "holds";
  if (n == 1 && std::string(verdict) == "does not hold") verdict = "inconclusive";  // one task cannot show "consistently"
  return {"neither GRU nor LSTM consistently outperforms the other",
          "per task, |mean difference| within one seed std (the larger of the two), or each cell better on some task",
          measured, verdict};
}

Claim rnn_claim(const std::vector<const TaskOutcome*>& tasks) {
  std::string measured;
  int hold = 0, fail = 0, n = 0;
  for (const TaskOutcome* t : tasks) {
    const CellStats* r = t->find("rnn");
    if (!r) continue;
    bool all_beat = true, any_worse = false, any = false;
    std::string part = t->task + " " + t->primary + ": rnn " + pm(r->metric.at(t->primary));
    for (const char* gated : {"lstm", "gru"}) {
      const CellStats* g = t->find(gated);
      if (!g) continue;
      any = true;
      const auto [adv, noise] = advantage(*t, *g, *r);
      all_beat = all_beat && adv > noise;
      any_worse = any_worse || adv < -noise;
      part += std::string(", ") + gated + " " + pm(g->metric.at(t->primary));
    }
    if (!any) continue;
    ++n;
    hold += all_beat;
    fail += any_worse;
    measured += (measured.empty() ? "" : "; ") + part;
  }
  if (n == 0) return {};
  return {"LSTM/GRU beat the vanilla RNN",
          "on every task, LSTM and GRU better than the RNN by more than one seed std",
          measured, hold == n ? "holds" : fail > 0 && hold == 0 ? "does not hold" : "inconclusive"};
}

std::vector<Claim> claims_for(const std::vector<const TaskOutcome*>& tasks) {
  std::vector<Claim> out;
  for (Claim c : {parameter_claim(tasks), speed_claim(tasks), gru_lstm_claim(tasks), rnn_claim(tasks)})
    if (!c.claim.empty()) out.push_back(std::move(c));
  return out;
}

// ---- one task --------------------------------------------------------------------------------------

TaskOutcome run_task(const experiments::Program& program, const TaskSpec& spec, const std::vector<std::string>& cells,
                     int64_t seeds, const ac::Config& base) {
  const auto t0 = std::chrono::steady_clock::now();
  experiments::Run run(program, spec.name);
  TaskOutcome out;
  out.task = spec.name;
  out.primary = spec.metrics.front();
  std::string val_name;
  out.cells.resize(cells.size());
  // Seeds outer, cells inner: a change in machine load over the run then hits every cell alike,
  // which matters for the seconds-per-epoch comparison (the metrics do not depend on the order).
  for (int64_t s = 0; s < seeds; ++s)
    for (size_t c = 0; c < cells.size(); ++c) {
      ac::Config cfg = base;
      cfg.seed = program.seed() + uint64_t(s);
      experiments::Progress progress(spec.name + " " + cells[c] + " seed " + std::to_string(cfg.seed), cfg.epochs);
      cfg.on_epoch = [&](int64_t epoch, double loss, double) { progress.update(epoch, loss, 0); };
      out.cells[c].cell = cells[c];
      out.cells[c].seeds.push_back(spec.train(ac::parse_cell(cells[c]), cfg));
      progress.finish();
    }
  std::map<std::string, experiments::Run::NamedTensors> models;  // the models selected on validation
  for (const CellStats& cs : out.cells)
    for (const ac::Result& r : cs.seeds) models[cs.cell + "/seed" + std::to_string(r.seed)] = r.parameters;
  run.save_models(models);
  for (CellStats& cs : out.cells) {
    const ac::Result& r0 = cs.seeds.front();
    cs.parameters = r0.num_parameters;
    cs.recurrent_parameters = r0.recurrent_parameters;
    out.higher = r0.higher_is_better;
    val_name = r0.val_name;
    for (const std::string& m : spec.metrics) {
      std::vector<double> v;
      for (const auto& r : cs.seeds) v.push_back(r.metric(m));
      cs.metric[m] = ac::mean_std(v);
    }
    std::vector<double> secs, cpu;
    for (const auto& r : cs.seeds) secs.push_back(r.seconds_per_epoch()), cpu.push_back(r.cpu_seconds_per_epoch());
    cs.seconds = ac::mean_std(secs);
    cs.cpu_seconds = ac::mean_std(cpu);
  }

  auto& epochs = run.csv("epochs", {"cell", "seed", "epoch", "train_loss", val_name});
  auto& curves = run.csv("curves", {"epoch", "cell", "train_loss", val_name});
  std::vector<std::string> final_cols = {"cell", "seed", "parameters", "best_epoch"};
  std::vector<std::string> summary_cols = {"cell", "parameters", "recurrent_parameters", "seeds"};
  for (const auto& m : spec.metrics) final_cols.push_back(m), summary_cols.push_back(m + "_mean"), summary_cols.push_back(m + "_std");
  auto& final = run.csv("final", final_cols);
  auto& summary = run.csv("summary", summary_cols);
  auto& timing = run.csv("timing", {"cell", "seed", "epoch", "seconds", "cpu_seconds"});
  std::map<std::string, experiments::Value> metrics;
  for (const CellStats& cs : out.cells) {
    const size_t E = cs.seeds.front().epochs.size();
    for (size_t e = 0; e < E; ++e) {
      double loss = 0, val = 0;
      for (const auto& r : cs.seeds) {
        epochs.row({cs.cell, int64_t(r.seed), int64_t(e + 1), r.epochs[e].train_loss, r.epochs[e].val_metric});
        timing.row({cs.cell, int64_t(r.seed), int64_t(e + 1), r.epochs[e].seconds, r.epochs[e].cpu_seconds});
        loss += r.epochs[e].train_loss / double(cs.seeds.size());
        val += r.epochs[e].val_metric / double(cs.seeds.size());
      }
      curves.row({int64_t(e + 1), cs.cell, loss, val});
    }
    std::vector<experiments::Value> srow = {cs.cell, cs.parameters, cs.recurrent_parameters, int64_t(cs.seeds.size())};
    for (const auto& r : cs.seeds) {
      std::vector<experiments::Value> frow = {cs.cell, int64_t(r.seed), r.num_parameters, r.best_epoch + 1};
      for (const auto& m : spec.metrics) frow.emplace_back(std::in_place_type<double>, r.metric(m));
      final.row(frow);
    }
    std::string line = spec.name + ": " + cs.cell;
    for (const auto& m : spec.metrics) {
      const ac::MeanStd ms = cs.metric.at(m);
      srow.push_back(ms.mean), srow.push_back(ms.std);
      metrics[cs.cell + "/" + m + "/mean"] = ms.mean;
      metrics[cs.cell + "/" + m + "/std"] = ms.std;
      line += "  " + m + " " + pm(ms);
    }
    summary.row(srow);
    metrics[cs.cell + "/parameters"] = cs.parameters;
    metrics[cs.cell + "/recurrent_parameters"] = cs.recurrent_parameters;
    std::printf("%s  params %lld  %.3g s/epoch (wall), %.3g s CPU\n", line.c_str(), static_cast<long long>(cs.parameters),
                cs.seconds.mean, cs.cpu_seconds.mean);
  }
  metrics["epochs"] = base.epochs;
  metrics["seeds"] = seeds;
  metrics["hidden"] = base.hidden;
  run.plot({.name = "val_curve", .csv = "curves", .x = "epoch", .y = {val_name}, .group_by = "cell",
            .title = spec.title + ": " + val_name + " per epoch (mean of " + std::to_string(seeds) + " seeds)",
            .x_label = "epoch", .y_label = val_name});
  run.plot({.name = "train_loss", .csv = "curves", .x = "epoch", .y = {"train_loss"}, .group_by = "cell",
            .title = spec.title + ": training loss per epoch (mean of " + std::to_string(seeds) + " seeds)",
            .x_label = "epoch", .y_label = "train loss"});
  run.finish(metrics);
  experiments::write_claims(run, {});  // the claims are judged across the tasks, in overall/
  std::printf("%s: done in %.1f s wall\n", spec.name.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return out;
}

// The tasks side by side (overall/): summary of every task and cell, claims across the tasks.
void overall(const experiments::Program& program, const std::vector<TaskOutcome>& outcomes) {
  experiments::Run run(program, "overall");
  auto& summary = run.csv("summary", {"task", "cell", "metric", "mean", "std", "parameters"});
  auto& timing = run.csv("timing", {"task", "cell", "seconds_per_epoch_mean", "seconds_per_epoch_std",
                                    "cpu_seconds_per_epoch_mean", "cpu_seconds_per_epoch_std"});
  std::map<std::string, experiments::Value> metrics;
  std::vector<const TaskOutcome*> tasks;
  for (const TaskOutcome& t : outcomes) {
    tasks.push_back(&t);
    for (const CellStats& c : t.cells) {
      for (const auto& [m, ms] : c.metric) summary.row({t.task, c.cell, m, ms.mean, ms.std, c.parameters});
      timing.row({t.task, c.cell, c.seconds.mean, c.seconds.std, c.cpu_seconds.mean, c.cpu_seconds.std});
      metrics[t.task + "/" + c.cell + "/" + t.primary] = c.metric.at(t.primary).mean;
    }
  }
  run.finish(metrics);
  const std::vector<Claim> claims = claims_for(tasks);
  experiments::write_claims(run, claims);
  for (const Claim& c : claims)
    std::printf("claim: %s\n  expected: %s\n  measured: %s\n  verdict:  %s\n", c.claim.c_str(), c.expected.c_str(),
                c.measured.c_str(), c.verdict.c_str());
}

// ---- tiny generated data (--synthetic-data DIR) ------------------------------------------------------

// Four small files in the users' formats, with learnable structure: sentiment by word choice, tags
// by word, text of repeated phrases, a noisy sine. Deterministic (seqgrad::Rng, fixed seed).
void write_synthetic(const fs::path& dir) {
  fs::create_directories(dir);
  Rng rng(2024);
  const std::vector<std::string> good = {"good", "great", "fine", "lovely"}, bad = {"bad", "awful", "poor", "ugly"},
                                 filler = {"the", "food", "was", "movie", "really", "and"};
  std::ofstream s(dir / "sentiment.tsv");
  for (int i = 0; i < 80; ++i) {
    const int label = int(rng.below(2));
    s << label << '\t';
    for (int k = 0; k < 3 + int(rng.below(5)); ++k)
      s << (k ? " " : "") << (rng.below(2) ? (label ? good : bad)[rng.below(4)] : filler[rng.below(6)]);
    s << '\n';
  }
  const std::vector<std::pair<std::string, std::string>> words = {
      {"the", "DET"}, {"a", "DET"}, {"dog", "NOUN"}, {"cat", "NOUN"}, {"runs", "VERB"}, {"sees", "VERB"}, {"big", "ADJ"}};
  std::ofstream t(dir / "tagging.txt");
  for (int i = 0; i < 80; ++i) {
    for (int k = 0; k < 3 + int(rng.below(6)); ++k) {
      const auto& [w, tag] = words[rng.below(words.size())];
      t << (k ? " " : "") << w << '/' << tag;
    }
    t << " ./.\n";
  }
  std::ofstream x(dir / "text.txt");
  const std::vector<std::string> phrases = {"call me ishmael. ", "the whale is white. ", "some years ago. "};
  for (int i = 0; i < 200; ++i) x << phrases[rng.below(phrases.size())];
  std::ofstream c(dir / "series.csv");
  c << "t,value\n";
  for (int i = 0; i < 300; ++i) c << i << ',' << 50 + 40 * std::sin(i * 2 * M_PI / 24) + 5 * rng.normal() << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return experiments::run_main([&]() -> int {
    experiments::Program program("architecture_comparison",
                                 "Experiment 2: vanilla RNN vs LSTM vs GRU vs BiLSTM on sentiment, POS tagging, "
                                 "character LM and sunspot forecasting (mean ± std over seeds). --quick uses the values in [brackets] "
                                 "on real subsets: about 1.5 CPU-minutes, under 4 minutes wall on 2 idle cores");
    // The option table: full-run value, then the --quick value where a smoke run differs.
    program.option<std::string>("tasks", "sentiment,tagging,lm,forecast", "tasks to run (comma-separated)");
    program.option<std::string>("cells", "rnn,lstm,gru,bilstm", "cells (bilstm: sentiment and tagging only)");
    program.option<int64_t>("seeds", 3, "seeds per cell: --seed, --seed + 1, ...");
    program.option<int64_t>("epochs", 8, 4, "epochs per training");
    program.option<int64_t>("embed", 64, 32, "embedding size");
    program.option<int64_t>("hidden", 128, 48, "hidden units per direction");
    program.option<int64_t>("batch", 32, "batch size");
    program.option<double>("lr", 2e-3, 4e-3, "Adam learning rate");
    program.option<double>("clip", 1.0, "clip_grad_norm max norm (0 = off)");
    program.option<double>("forget-bias", 1.0, "LSTM forget-gate bias");
    program.option<int64_t>("max-train", 20000, 2400, "sentiment/tagging: training sentences kept, evenly spaced (0 = all)");
    program.option<int64_t>("max-eval", 0, 600, "sentiment/tagging: validation and test sentences kept (0 = all)");
    program.option<int64_t>("lm-train-chars", 500000, 200000, "char LM: first N training characters (0 = all)");
    program.option<int64_t>("lm-val-chars", 0, 20000, "char LM: first N validation characters (0 = all)");
    program.option<int64_t>("bptt", 50, "char LM: truncated-BPTT window");
    program.option<int64_t>("window", 24, "forecast: months of history per prediction");
    program.option<std::string>("data-sentiment", "", "TSV label<TAB>text instead of the UCI sentiment data");
    program.option<std::string>("data-tagging", "", "word/tag lines instead of the Brown corpus");
    program.option<std::string>("data-text", "", "a UTF-8 text file instead of Moby Dick");
    program.option<std::string>("data-series", "", "a CSV series instead of the sunspots");
    program.option<int>("series-column", -1, "column of --data-series (0-based, -1 = last)");
    program.option<std::string>("synthetic-data", "",
                                "(for tests) write tiny generated files into this folder and use them for every --data-* not given");
    program.flag("verify", "afterwards, check that every output exists and parses (exit 2 if not)");
    if (!program.parse(argc, argv)) return 0;

    const std::vector<std::string> task_list = experiments::parse_name_list(
        "tasks", program.get<std::string>("tasks"), {"sentiment", "tagging", "lm", "forecast"});
    const std::vector<std::string> cells =
        experiments::parse_name_list("cells", program.get<std::string>("cells"), {"rnn", "lstm", "gru", "bilstm"});
    const int64_t seeds = program.get<int64_t>("seeds");
    experiments::require_positive("seeds", double(seeds));

    ac::Config cfg;
    cfg.epochs = program.get<int64_t>("epochs");
    cfg.embed = program.get<int64_t>("embed");
    cfg.hidden = program.get<int64_t>("hidden");
    cfg.batch = program.get<int64_t>("batch");
    cfg.lr = program.get<double>("lr");
    cfg.clip = program.get<double>("clip");
    cfg.forget_bias = program.get<double>("forget-bias");
    cfg.max_train = program.get<int64_t>("max-train");
    cfg.max_eval = program.get<int64_t>("max-eval");
    cfg.lm_train_chars = program.get<int64_t>("lm-train-chars");
    cfg.lm_val_chars = program.get<int64_t>("lm-val-chars");
    cfg.bptt = program.get<int64_t>("bptt");
    cfg.window = program.get<int64_t>("window");
    for (auto [name, v] : std::initializer_list<std::pair<const char*, double>>{
             {"epochs", double(cfg.epochs)}, {"embed", double(cfg.embed)}, {"hidden", double(cfg.hidden)},
             {"batch", double(cfg.batch)}, {"lr", cfg.lr}, {"bptt", double(cfg.bptt)}, {"window", double(cfg.window)}})
      experiments::require_positive(name, v);
    for (auto [name, v] : std::initializer_list<std::pair<const char*, int64_t>>{
             {"max-train", cfg.max_train}, {"max-eval", cfg.max_eval}, {"lm-train-chars", cfg.lm_train_chars},
             {"lm-val-chars", cfg.lm_val_chars}})
      if (v < 0) throw std::invalid_argument(std::string("--") + name + ": must be >= 0 (0 = all), got " + std::to_string(v));
    if (!(cfg.clip >= 0)) throw std::invalid_argument("--clip: must be >= 0 (0 = off), got " + fmt(cfg.clip));

    std::map<std::string, std::string> files;
    for (const char* k : {"data-sentiment", "data-tagging", "data-text", "data-series"}) files[k] = program.get<std::string>(k);
    if (const std::string dir = program.get<std::string>("synthetic-data"); !dir.empty()) {
      write_synthetic(dir);
      for (auto [k, f] : std::initializer_list<std::pair<const char*, const char*>>{
               {"data-sentiment", "sentiment.tsv"}, {"data-tagging", "tagging.txt"}, {"data-text", "text.txt"},
               {"data-series", "series.csv"}})
        if (files[k].empty()) files[k] = (fs::path(dir) / f).string();
    }
    const fs::path data_dir = data::default_data_dir();

    std::vector<TaskOutcome> outcomes;
    std::vector<std::pair<std::string, std::vector<std::string>>> written;
    auto run = [&](const TaskSpec& spec, std::vector<std::string> task_cells) {
      task_cells.erase(std::remove(task_cells.begin(), task_cells.end(), "bilstm"), task_cells.end());
      if (task_cells.empty()) return std::printf("%s: skipped (no unidirectional cell among --cells)\n", spec.name.c_str()), void();
      outcomes.push_back(run_task(program, spec, task_cells, seeds, cfg));
      written.push_back({spec.name, {"val_curve", "train_loss"}});
    };
    auto run_all = [&](const TaskSpec& spec) {  // every cell, BiLSTM included
      outcomes.push_back(run_task(program, spec, cells, seeds, cfg));
      written.push_back({spec.name, {"val_curve", "train_loss"}});
    };
    for (const std::string& task : task_list) {
      if (task == "sentiment") {
        const std::string& f = files["data-sentiment"];
        const ac::ClassificationTask t =
            ac::encode_classification(f.empty() ? data::load_sentiment(data_dir) : data::load_classification_tsv(f), cfg);
        std::printf("sentiment: %zu / %zu / %zu sentences, vocabulary %lld\n", t.train.x.size(), t.val.x.size(),
                    t.test.x.size(), static_cast<long long>(t.vocab_size));
        run_all({"sentiment", "sentiment", {"test_accuracy"},
                 [&](ac::CellKind c, const ac::Config& k) { return ac::train_sentiment(t, c, k); }});
      } else if (task == "tagging") {
        const std::string& f = files["data-tagging"];
        const ac::TaggingTask t = ac::encode_tagging(f.empty() ? data::load_brown(data_dir) : data::load_tagging_file(f), cfg);
        std::printf("tagging: %zu / %zu / %zu sentences, vocabulary %lld, %zu tags\n", t.train.x.size(), t.val.x.size(),
                    t.test.x.size(), static_cast<long long>(t.vocab_size), t.tagset.size());
        run_all({"tagging", "POS tagging", {"test_token_accuracy", "test_macro_f1"},
                 [&](ac::CellKind c, const ac::Config& k) { return ac::train_tagging(t, c, k); }});
      } else if (task == "lm") {
        const std::string& f = files["data-text"];
        const data::CharCorpus corpus = f.empty() ? data::load_moby_dick(data_dir) : data::load_text(f);
        std::printf("lm: %zu / %zu characters (using %lld / %lld), vocabulary %lld\n", corpus.train.size(),
                    corpus.val.size(), static_cast<long long>(cfg.lm_train_chars), static_cast<long long>(cfg.lm_val_chars),
                    static_cast<long long>(corpus.vocab.size()));
        run({"lm", "character LM", {"val_bpc"},
             [&](ac::CellKind c, const ac::Config& k) { return ac::train_char_lm(corpus, c, k); }},
            cells);
      } else if (task == "forecast") {
        const std::string& f = files["data-series"];
        const ac::ForecastTask t = ac::encode_forecast(
            f.empty() ? data::load_sunspots(data_dir) : data::load_series_csv(f, program.get<int>("series-column")), cfg.window);
        std::printf("forecast: %lld / %lld / %lld values, window %lld, persistence RMSE %.4g\n",
                    static_cast<long long>(t.val_begin), static_cast<long long>(t.test_begin - t.val_begin),
                    static_cast<long long>(int64_t(t.values.size()) - t.test_begin), static_cast<long long>(t.window),
                    ac::persistence_rmse(t));
        run({"forecast", "sunspot forecasting", {"test_rmse", "persistence_rmse"},
             [&](ac::CellKind c, const ac::Config& k) { return ac::train_forecast(t, c, k); }},
            cells);
      }
    }
    if (!outcomes.empty()) overall(program, outcomes), written.push_back({"overall", {}});
    if (program.get<bool>("verify")) return experiments::verify_runs(program.out(), written) > 0 ? 0 : 2;
    return 0;
  });
}
