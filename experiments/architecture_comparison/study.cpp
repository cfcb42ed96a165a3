// Experiment 2 into run folders. See study.h.
#include "experiments/architecture_comparison/study.h"

#include <chrono>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "experiments/architecture_comparison/verdicts.h"

namespace seqgrad::architecture_comparison {

namespace {

namespace fs = std::filesystem;
using experiments::Value;

std::string pm(const MeanStd& m) { return experiments::fmt(m.mean) + " ± " + experiments::fmt(m.std, 2); }

// One training of `cell` with cfg.seed as a unit of work (sweep.h); its cost: epochs × the cell's
// weight blocks (the task and sizes are the same for every unit of the task).
experiments::Unit training(const TaskSpec& spec, CellKind cell, Config cfg) {
  return {unit_key(cell, cfg.seed), double(cfg.epochs) * experiments::cell_cost(cell), [&spec, cell, cfg] {
            experiments::Progress progress(spec.run + " " + cell_name(cell) + " seed " + std::to_string(cfg.seed),
                                           cfg.epochs);
            Config c = cfg;
            c.on_epoch = [&](int64_t epoch, double loss, double) { progress.update(epoch, loss, 0); };
            const Result r = spec.train(cell, c);
            progress.finish();
            return to_checkpoint(r);
          }};
}

// Every cell × seed, trained across the ranks or read back with --resume. One at a time, seeds outer,
// cells inner: a change in machine load over the run then hits every cell alike, which matters for
// the seconds-per-epoch comparison.
std::vector<CellStats> train_all(const experiments::Run& run, const TaskSpec& spec, int64_t seeds, const Config& base) {
  const experiments::UnitStore units(run);
  std::vector<experiments::Unit> work;
  for (int64_t s = 0; s < seeds; ++s)
    for (CellKind cell : spec.cells) {
      Config cfg = base;
      cfg.seed = run.program().seed() + uint64_t(s);
      work.push_back(training(spec, cell, cfg));
    }
  const auto resumed = [&](const std::string& key) {
    std::printf("%s %s: finished earlier (--resume), not retrained\n", spec.run.c_str(), key.c_str());
  };
  const std::vector<nn::Checkpoint> done = experiments::train_units(units, work, {.on_resumed = resumed});
  std::vector<CellStats> cells(spec.cells.size());
  for (size_t i = 0; i < done.size(); ++i) {
    CellStats& cs = cells[i % spec.cells.size()];
    cs.cell = spec.cells[i % spec.cells.size()];
    cs.seeds.push_back(result_from(done[i], work[i].key));
  }
  for (CellStats& cs : cells)
    for (const std::string& m : spec.metrics) cs.metric[m] = mean_std(cs.values(m));
  return cells;
}

// metrics/epochs.csv and timing.csv (per cell, seed, epoch) and curves.csv (means over seeds).
void write_epochs(experiments::Run& run, const TaskOutcome& out, const std::string& val_name) {
  auto& epochs = run.csv("epochs", {"cell", "seed", "epoch", "train_loss", val_name});
  auto& timing = run.csv("timing", {"cell", "seed", "epoch", "seconds", "cpu_seconds"});
  auto& curves = run.csv("curves", {"epoch", "cell", "train_loss", val_name});
  for (const CellStats& cs : out.cells)
    for (size_t e = 0; e < cs.seeds.front().epochs.size(); ++e) {
      double loss = 0, val = 0;
      for (const Result& r : cs.seeds) {
        const Epoch& ep = r.epochs[e];
        epochs.row({cell_name(cs.cell), int64_t(r.seed), int64_t(e + 1), ep.train_loss, ep.val_metric});
        timing.row({cell_name(cs.cell), int64_t(r.seed), int64_t(e + 1), ep.seconds, ep.cpu_seconds});
        loss += ep.train_loss / double(cs.seeds.size());
        val += ep.val_metric / double(cs.seeds.size());
      }
      curves.row({int64_t(e + 1), cell_name(cs.cell), loss, val});
    }
}

// metrics/val_curves.csv: the cells' mean validation curves and each baseline as a constant line.
void write_val_curves(experiments::Run& run, const TaskSpec& spec, const TaskOutcome& out,
                      const std::string& val_name) {
  auto& csv = run.csv("val_curves", {"epoch", "series", val_name});
  const size_t E = out.cells.front().seeds.front().epochs.size();
  for (const CellStats& cs : out.cells)
    for (size_t e = 0; e < E; ++e) {
      double val = 0;
      for (const Result& r : cs.seeds) val += r.epochs[e].val_metric / double(cs.seeds.size());
      csv.row({int64_t(e + 1), cell_name(cs.cell), val});
    }
  for (const Baseline& b : spec.baselines)
    for (size_t e = 0; e < E; ++e) csv.row({int64_t(e + 1), b.name + " (baseline)", b.val});
}

// metrics/final.csv (per seed) and summary.csv (mean ± std per cell, then the baselines); returns
// the metrics.json entries.
std::map<std::string, Value> write_tables(experiments::Run& run, const TaskSpec& spec, const TaskOutcome& out) {
  std::vector<std::string> final_cols = {"cell", "seed", "parameters", "best_epoch"};
  std::vector<std::string> summary_cols = {"cell", "parameters", "recurrent_parameters", "seeds"};
  for (const auto& m : spec.metrics)
    final_cols.push_back(m), summary_cols.push_back(m + "_mean"), summary_cols.push_back(m + "_std");
  auto& final = run.csv("final", final_cols);
  auto& summary = run.csv("summary", summary_cols);
  std::map<std::string, Value> metrics;
  for (const CellStats& cs : out.cells) {
    const std::string cell = cell_name(cs.cell);
    for (const Result& r : cs.seeds) {
      std::vector<Value> row = {cell, int64_t(r.seed), r.num_parameters, r.best_epoch + 1};
      for (const auto& m : spec.metrics) row.emplace_back(std::in_place_type<double>, r.metric(m));
      final.row(row);
    }
    const Result& r0 = cs.seeds.front();
    std::vector<Value> row = {cell, r0.num_parameters, r0.recurrent_parameters, int64_t(cs.seeds.size())};
    for (const auto& m : spec.metrics) {
      row.push_back(cs.metric.at(m).mean), row.push_back(cs.metric.at(m).std);
      metrics[cell + "/" + m + "/mean"] = cs.metric.at(m).mean;
      metrics[cell + "/" + m + "/std"] = cs.metric.at(m).std;
    }
    summary.row(row);
    metrics[cell + "/parameters"] = r0.num_parameters;
    metrics[cell + "/recurrent_parameters"] = r0.recurrent_parameters;
  }
  for (const Baseline& b : spec.baselines) {
    std::vector<Value> row = {b.name + " (baseline)", int64_t(0), int64_t(0), int64_t(0)};
    for (const auto& [m, v] : b.metrics)
      row.push_back(v), row.push_back(0.0), metrics["baseline/" + b.name + "/" + m] = v;
    summary.row(row);
  }
  return metrics;
}

void write_plots(experiments::Run& run, const TaskSpec& spec, const std::string& val_name, int64_t seeds) {
  const std::string mean_of = " (mean of " + std::to_string(seeds) + " seeds)";
  run.plot({.name = "val_curve",
            .csv = "val_curves",
            .x = "epoch",
            .y = {val_name},
            .group_by = "series",
            .title = spec.title + ": " + val_name + " per epoch" + mean_of + ", baselines as lines",
            .x_label = "epoch",
            .y_label = val_name});
  run.plot({.name = "train_loss",
            .csv = "curves",
            .x = "epoch",
            .y = {"train_loss"},
            .group_by = "cell",
            .title = spec.title + ": training loss per epoch" + mean_of,
            .x_label = "epoch",
            .y_label = "train loss"});
}

// One line per cell and baseline on stdout.
void print_summary(const TaskSpec& spec, const TaskOutcome& out) {
  for (const CellStats& cs : out.cells) {
    std::string line = spec.run + ": " + cell_name(cs.cell);
    for (const auto& m : spec.metrics) line += "  " + m + " " + pm(cs.metric.at(m));
    std::printf("%s  params %lld  %.3g s/epoch CPU\n", line.c_str(),
                static_cast<long long>(cs.seeds.front().num_parameters), mean_std(cs.cpu_seconds()).mean);
  }
  for (const Baseline& b : spec.baselines)
    std::printf("%s: %s (baseline)  %s %s\n", spec.run.c_str(), b.name.c_str(), b.metrics.front().first.c_str(),
                experiments::fmt(b.metrics.front().second).c_str());
}

// The run's selected models in checkpoint.sgck, as "param/<cell>/seed<k>/<name>".
void save_models(experiments::Run& run, const TaskOutcome& out) {
  std::map<std::string, experiments::Run::NamedTensors> models;
  for (const CellStats& cs : out.cells)
    for (const Result& r : cs.seeds) models[model_key(cs.cell, r.seed)] = r.parameters;
  run.save_models(models);
}

// A config text without the options that do not change results (and --eval-only itself).
std::string comparable_config(const std::string& config) {
  std::istringstream in(config);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    const std::string key = experiments::trim(line.substr(0, line.find('=')));
    if (line.starts_with("#") || key == "threads" || key == "out" || key == "resume" || key == "verify" ||
        key == "eval-only")
      continue;
    out += line + "\n";
  }
  return out;
}

// The run's checkpoint.sgck, checked to hold models trained under this config.
nn::Checkpoint saved_models(const experiments::Program& program, const TaskSpec& spec) {
  const fs::path file = program.out() / spec.run / "checkpoint.sgck";
  if (!fs::exists(file))
    throw std::invalid_argument("--eval-only: " + file.string() +
                                " not found; train the run first (without --eval-only)");
  nn::Checkpoint ckpt = nn::load_checkpoint(file.string());
  auto it = ckpt.texts.find("config");
  if (it == ckpt.texts.end() || comparable_config(it->second) != comparable_config(program.resolved_config()))
    throw std::invalid_argument("--eval-only: " + file.string() +
                                " was trained under another configuration; pass that run's config.ini with --config");
  return ckpt;
}

// The parameters of model `key` in ckpt ("param/<key>/<name>" -> name).
NamedTensors model_parameters(const nn::Checkpoint& ckpt, const std::string& key, const std::string& file) {
  NamedTensors params;
  const std::string prefix = "param/" + key + "/";
  for (const auto& [name, value] : ckpt.tensors)
    if (name.starts_with(prefix)) params[name.substr(prefix.size())] = value;
  if (params.empty()) throw std::invalid_argument("--eval-only: " + file + " holds no model " + key);
  return params;
}

}  // namespace

std::vector<double> CellStats::values(const std::string& name) const {
  std::vector<double> v;
  for (const Result& r : seeds) v.push_back(r.metric(name));
  return v;
}

std::vector<double> CellStats::cpu_seconds() const {
  std::vector<double> v;
  for (const Result& r : seeds)
    for (const Epoch& e : r.epochs) v.push_back(e.cpu_seconds);
  return v;
}

const CellStats* TaskOutcome::find(CellKind cell) const {
  for (const auto& c : cells)
    if (c.cell == cell) return &c;
  return nullptr;
}

std::string unit_key(CellKind cell, uint64_t seed) {
  return std::string(cell_name(cell)) + "_seed" + std::to_string(seed);
}
std::string model_key(CellKind cell, uint64_t seed) {
  return std::string(cell_name(cell)) + "/seed" + std::to_string(seed);
}

TaskOutcome run_task(const experiments::Program& program, const TaskSpec& spec, int64_t seeds, const Config& base) {
  const auto t0 = std::chrono::steady_clock::now();
  experiments::Run run(program, spec.run, spec.files);
  experiments::write_file(run.dir() / "data.txt", spec.data_summary);
  TaskOutcome out{.task = spec.run, .primary = spec.metrics.front(), .cells = train_all(run, spec, seeds, base)};
  const Result& r0 = out.cells.front().seeds.front();
  out.higher = r0.higher_is_better;
  save_models(run, out);
  write_epochs(run, out, r0.val_name);
  write_val_curves(run, spec, out, r0.val_name);
  std::map<std::string, Value> metrics = write_tables(run, spec, out);
  metrics["epochs"] = base.epochs;
  metrics["seeds"] = seeds;
  metrics["hidden"] = base.hidden;
  write_plots(run, spec, r0.val_name, seeds);
  run.finish(metrics);
  experiments::write_claims(run, {});  // the claims are judged across the tasks, in overall/
  print_summary(spec, out);
  std::printf("%s: done in %.1f s wall\n", spec.run.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return out;
}

void evaluate_task(const experiments::Program& program, const TaskSpec& spec, const Config& base) {
  const nn::Checkpoint ckpt = saved_models(program, spec);
  const std::string file = (program.out() / spec.run / "checkpoint.sgck").string();
  experiments::Run run(program, spec.run + "-eval", spec.files);
  experiments::write_file(run.dir() / "data.txt", spec.data_summary);
  std::vector<std::string> cols = {"cell", "seed"};
  cols.insert(cols.end(), spec.metrics.begin(), spec.metrics.end());
  auto& csv = run.csv("final", cols);
  std::map<std::string, Value> metrics;
  for (CellKind cell : spec.cells) {
    std::map<std::string, std::vector<double>> per_metric;
    for (uint64_t seed = program.seed(); seed < program.seed() + uint64_t(program.get<int64_t>("seeds")); ++seed) {
      Config cfg = base;
      cfg.seed = seed;
      const Metrics m = spec.evaluate(cell, cfg, model_parameters(ckpt, model_key(cell, seed), file));
      std::vector<Value> row = {Value(std::string(cell_name(cell))), Value(int64_t(seed))};
      for (const auto& [name, v] : m) row.emplace_back(std::in_place_type<double>, v), per_metric[name].push_back(v);
      csv.row(row);
    }
    for (const auto& [name, v] : per_metric) {
      metrics[std::string(cell_name(cell)) + "/" + name + "/mean"] = mean_std(v).mean;
      metrics[std::string(cell_name(cell)) + "/" + name + "/std"] = mean_std(v).std;
      std::printf("%s (--eval-only): %s  %s %s\n", spec.run.c_str(), cell_name(cell), name.c_str(),
                  pm(mean_std(v)).c_str());
    }
  }
  run.finish(metrics);
  experiments::write_claims(run, {});
}

void write_overall(const experiments::Program& program, const std::vector<TaskOutcome>& outcomes) {
  experiments::Run run(program, "overall");
  auto& summary = run.csv("summary", {"task", "cell", "metric", "mean", "std", "parameters"});
  auto& cells = run.csv("cells", {"cell", "form"});
  std::map<std::string, Value> metrics = {{"verdict_rule", std::string(experiments::kVerdictRule)}};
  for (const std::string& name : experiments::cell_names()) {
    cells.row({name, experiments::cell_form(parse_cell(name))});
    metrics["cell_form/" + name] = experiments::cell_form(parse_cell(name));
  }
  for (const TaskOutcome& t : outcomes)
    for (const CellStats& c : t.cells) {
      for (const auto& [m, ms] : c.metric)
        summary.row({t.task, cell_name(c.cell), m, ms.mean, ms.std, c.seeds.front().num_parameters});
      metrics[t.task + "/" + cell_name(c.cell) + "/" + t.primary] = c.metric.at(t.primary).mean;
    }
  run.finish(metrics);
  const std::vector<experiments::Claim> claims = judge_claims(outcomes);
  experiments::write_claims(run, claims);
  for (const experiments::Claim& c : claims)
    std::printf("claim: %s\n  expected: %s\n  measured: %s\n  verdict:  %s\n", c.claim.c_str(), c.expected.c_str(),
                c.measured.c_str(), c.verdict.c_str());
}

}  // namespace seqgrad::architecture_comparison
