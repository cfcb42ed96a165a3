// The program's tasks from its options. See task_specs.h.
#include "experiments/architecture_comparison/task_specs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "autograd/rng.h"

namespace seqgrad::architecture_comparison {

namespace {

namespace fs = std::filesystem;
using experiments::DataFile;
using experiments::Program;

struct TaskData {
  const char* task;
  const char* option;     // --data-<...>
  const char* synthetic;  // its file under --synthetic-data
  const char* bundled;    // the bundled set's name
};
constexpr TaskData kTasks[] = {{"sentiment", "data-sentiment", "sentiment.tsv", "UCI sentiment"},
                               {"tagging", "data-tagging", "tagging.txt", "Brown corpus"},
                               {"lm", "data-text", "text.txt", "Moby Dick"},
                               {"forecast", "data-series", "series.csv", "monthly sunspots"}};

const TaskData& task_data(const std::string& task) {
  for (const TaskData& t : kTasks)
    if (task == t.task) return t;
  throw std::invalid_argument("--tasks: unknown task '" + task + "'");
}

// The user's file for the task (--data-*, else the --synthetic-data file), or "" for the bundled set.
std::string user_file(const Program& program, const TaskData& t) {
  if (std::string f = program.get<std::string>(t.option); !f.empty()) return f;
  const std::string dir = program.get<std::string>("synthetic-data");
  return dir.empty() ? "" : (fs::path(dir) / t.synthetic).string();
}

// A file stem usable in a folder name: other characters become '_'.
std::string safe_stem(const std::string& file) {
  std::string s = fs::path(file).stem().string();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  if (s.empty() || s[0] == '.') s = "_" + s;
  return s;
}

// The task's cells among --cells (bilstm only where it may see the whole sequence).
std::vector<CellKind> task_cells(const Program& program, bool bidirectional_ok) {
  std::vector<CellKind> cells;
  for (const std::string& c :
       experiments::parse_name_list("cells", program.get<std::string>("cells"), experiments::cell_names()))
    if (bidirectional_ok || c != "bilstm") cells.push_back(parse_cell(c));
  return cells;
}

// The spec's names, cells and files; the task's own builder adds data, baselines and training.
TaskSpec named_spec(const Program& program, const TaskData& t, const std::string& file,
                    std::vector<std::string> metrics, std::vector<DataFile> bundled_files) {
  const std::string task = t.task;
  TaskSpec spec;
  spec.task = task;
  spec.run = file.empty() ? task : task + "-" + safe_stem(file);
  spec.title = task + " (" + (file.empty() ? t.bundled : fs::path(file).stem().string()) + ")";
  spec.metrics = std::move(metrics);
  spec.cells = task_cells(program, task == "sentiment" || task == "tagging");
  spec.files = file.empty() ? std::move(bundled_files) : std::vector<DataFile>{{t.task, file}};
  return spec;
}

// The spec's training and --eval-only re-test of one encoded task (shared by both).
template <typename T, typename Train, typename Evaluate>
void bind(TaskSpec& spec, std::shared_ptr<const T> task, Train train, Evaluate evaluate) {
  spec.train = [task, train](CellKind c, const Config& k) { return train(*task, c, k); };
  spec.evaluate = [task, evaluate](CellKind c, const Config& k, const NamedTensors& p) {
    return evaluate(*task, c, k, p);
  };
}

// "2400 / 300 / 300 (train / validation / test)".
std::string split_sizes(const auto& train, const auto& val, const auto& test) {
  return std::to_string(train.size()) + " / " + std::to_string(val.size()) + " / " + std::to_string(test.size()) +
         " (train / validation / test)";
}

// What the loader understood (its summary()) and what the task uses of it: printed, and kept for
// the run folder's data.txt.
void describe(TaskSpec& spec, const std::string& loaded, const std::string& used) {
  spec.data_summary = loaded + "used: " + used + "\n";
  std::printf("%s:\n%s", spec.title.c_str(), spec.data_summary.c_str());
}

std::vector<DataFile> brown_files(const fs::path& dir) {
  std::vector<DataFile> files;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string n = e.path().filename().string();
      if (n.size() == 4 && n[0] == 'c' && n[1] >= 'a' && n[1] <= 'r' &&
          std::isdigit(static_cast<unsigned char>(n[2])) && std::isdigit(static_cast<unsigned char>(n[3])))
        files.push_back({"tagging", e.path()});
    }
  std::sort(files.begin(), files.end(), [](const DataFile& a, const DataFile& b) { return a.path < b.path; });
  return files;
}

TaskSpec sentiment_spec(const Program& program, const std::string& file, const Config& cfg) {
  const fs::path dir = data::default_data_dir();
  TaskSpec spec = named_spec(program, task_data("sentiment"), file, {"test_accuracy"},
                             {{"sentiment", dir / "sentiment" / "amazon.json"},
                              {"sentiment", dir / "sentiment" / "imdb.json"},
                              {"sentiment", dir / "sentiment" / "yelp.json"}});
  const data::ClassificationData d = file.empty() ? data::load_sentiment(dir) : data::load_classification_tsv(file);
  auto task = std::make_shared<const ClassificationTask>(encode_classification(d, cfg));
  describe(spec, d.summary(),
           split_sizes(task->train.x, task->val.x, task->test.x) + " sentences, vocabulary " +
               std::to_string(task->vocab_size));
  spec.baselines = sentiment_baselines(*task);
  bind(spec, task, train_sentiment, evaluate_sentiment);
  return spec;
}

TaskSpec tagging_spec(const Program& program, const std::string& file, const Config& cfg) {
  const fs::path dir = data::default_data_dir();
  TaskSpec spec = named_spec(program, task_data("tagging"), file, {"test_token_accuracy", "test_macro_f1"},
                             file.empty() ? brown_files(dir / "brown") : std::vector<DataFile>{});
  const data::TaggingData d = file.empty() ? data::load_brown(dir) : data::load_tagging_file(file);
  auto task = std::make_shared<const TaggingTask>(encode_tagging(d, cfg));
  describe(spec, d.summary(),
           split_sizes(task->train.x, task->val.x, task->test.x) + " sentences, vocabulary " +
               std::to_string(task->vocab_size) + ", " + std::to_string(task->tagset.size()) + " tags");
  spec.baselines = tagging_baselines(*task);
  bind(spec, task, train_tagging, evaluate_tagging);
  return spec;
}

TaskSpec lm_spec(const Program& program, const std::string& file, const Config& cfg) {
  const fs::path dir = data::default_data_dir();
  TaskSpec spec =
      named_spec(program, task_data("lm"), file, {"val_bpc"}, {{"lm", dir / "moby_dick" / "moby_dick.txt"}});
  auto corpus =
      std::make_shared<const data::CharCorpus>(file.empty() ? data::load_moby_dick(dir) : data::load_text(file));
  describe(spec, corpus->summary(),
           std::to_string(lm_train_stream(*corpus, cfg).size()) + " / " +
               std::to_string(lm_val_stream(*corpus, cfg).size()) + " characters (train / validation), vocabulary " +
               std::to_string(corpus->vocab.size()));
  spec.baselines = lm_baselines(*corpus, cfg);
  bind(spec, corpus, train_char_lm, evaluate_char_lm);
  return spec;
}

TaskSpec forecast_spec(const Program& program, const std::string& file, const Config& cfg) {
  const fs::path dir = data::default_data_dir();
  TaskSpec spec = named_spec(program, task_data("forecast"), file, {"test_rmse"},
                             {{"forecast", dir / "sunspots" / "sunspot_month.csv"}});
  const data::ForecastData d =
      file.empty() ? data::load_sunspots(dir) : data::load_series_csv(file, program.get<int>("series-column"));
  auto task = std::make_shared<const ForecastTask>(encode_forecast(d, cfg.window, file.empty() ? "sunspots" : file));
  describe(spec, d.summary(),
           "window " + std::to_string(task->window) + ", each relative to its last value, changes / " +
               experiments::fmt(task->scale) + " (the training changes' std)");
  spec.baselines = forecast_baselines(*task, program.get<int64_t>("season"));
  bind(spec, task, train_forecast, evaluate_forecast);
  return spec;
}

}  // namespace

// The option table: full-run value, then the --quick value where a smoke run differs.
void declare_options(Program& program) {
  program.option<std::string>("tasks", "sentiment,tagging,lm,forecast",
                              "tasks to run (comma-separated); not given: the tasks of the --data-* given, else all");
  program.option<std::string>("cells", "rnn,lstm,gru,bilstm", "cells (bilstm: sentiment and tagging only)");
  program.option<int64_t>("seeds", 3, "seeds per cell: --seed, --seed + 1, ... (claims need >= 3)");
  program.option<int64_t>("epochs", 8, 4, "epochs per training");
  program.option<int64_t>("embed", 64, 32, "embedding size");
  program.option<int64_t>("hidden", 128, 48, "hidden units per direction");
  program.option<int64_t>("batch", 32, "batch size");
  program.option<double>("lr", 2e-3, 4e-3, "Adam learning rate");
  program.option<double>("clip", 1.0, "clip_grad_norm max norm (0 = off)");
  program.option<double>("forget-bias", 1.0, "LSTM forget-gate bias");
  program.option<int64_t>("max-train", 20000, 2400,
                          "sentiment/tagging: training sentences kept, evenly spaced (0 = all)");
  program.option<int64_t>("max-eval", 0, 600, "sentiment/tagging: validation and test sentences kept (0 = all)");
  program.option<int64_t>("lm-train-chars", 500000, 200000, "char LM: first N training characters (0 = all)");
  program.option<int64_t>("lm-val-chars", 0, 20000, "char LM: first N validation characters (0 = all)");
  program.option<int64_t>("bptt", 50, "char LM: truncated-BPTT window");
  program.option<int64_t>("window", 24, "forecast: values of history per prediction");
  program.option<int64_t>("season", 12, "forecast: season length of the seasonal-naive baseline (12 for monthly data)");
  program.option<std::string>("data-sentiment", "",
                              "TSV label<TAB>text instead of the UCI sentiment data (run folder sentiment-<stem>)");
  program.option<std::string>("data-tagging", "",
                              "word/tag lines instead of the Brown corpus (run folder tagging-<stem>)");
  program.option<std::string>("data-text", "", "a UTF-8 text file instead of Moby Dick (run folder lm-<stem>)");
  program.option<std::string>("data-series", "", "a CSV series instead of the sunspots (run folder forecast-<stem>)");
  program.option<int>("series-column", -1, "column of --data-series (0-based, -1 = last)");
  program.option<std::string>(
      "synthetic-data", "",
      "(for tests) write tiny generated files into this folder and use them for every --data-* not given");
  program.flag("eval-only",
               "no training: re-test the models saved in each task's checkpoint.sgck (same config, e.g. "
               "--config <run>/config.ini) on its test split, into <run>-eval/");
  program.flag("verify", "afterwards, check that every output exists and parses (exit 2 if not)");
}

std::vector<std::string> chosen_tasks(const Program& program) {
  if (program.given("tasks"))
    return experiments::parse_name_list("tasks", program.get<std::string>("tasks"),
                                        {"sentiment", "tagging", "lm", "forecast"});
  std::vector<std::string> tasks;
  for (const TaskData& t : kTasks)
    if (program.given(t.option)) tasks.push_back(t.task);
  if (!tasks.empty()) return tasks;
  return {"sentiment", "tagging", "lm", "forecast"};
}

std::vector<TaskSpec> load_tasks(const Program& program, const std::vector<std::string>& tasks, const Config& cfg) {
  std::vector<TaskSpec> specs;
  for (const std::string& task : tasks) {
    const std::string file = user_file(program, task_data(task));
    TaskSpec spec = task == "sentiment" ? sentiment_spec(program, file, cfg)
                    : task == "tagging" ? tagging_spec(program, file, cfg)
                    : task == "lm"      ? lm_spec(program, file, cfg)
                                        : forecast_spec(program, file, cfg);
    if (spec.cells.empty()) std::printf("%s: skipped (no unidirectional cell among --cells)\n", spec.run.c_str());
    else specs.push_back(std::move(spec));
  }
  return specs;
}

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
  const std::vector<std::pair<std::string, std::string>> words = {{"the", "DET"},  {"a", "DET"},     {"dog", "NOUN"},
                                                                  {"cat", "NOUN"}, {"runs", "VERB"}, {"sees", "VERB"},
                                                                  {"big", "ADJ"}};
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

}  // namespace seqgrad::architecture_comparison
