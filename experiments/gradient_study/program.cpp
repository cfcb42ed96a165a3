// gradient_study's options, their checks, the dispatch to the parts and --eval-only (program.h).
#include "experiments/gradient_study/program.h"

#include <cstdio>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/gradient_study/parts.h"
#include "nn/io/checkpoint.h"

namespace seqgrad::gradient_study {

namespace {

namespace fs = std::filesystem;
using experiments::Program;

// The networks and spectral parts' settings (seed: --seed; each training sets its own).
NetworkConfig network_config(const Program& program) {
  NetworkConfig net;
  net.T = program.get<int64_t>("T");
  net.hidden = program.get<int64_t>("hidden");
  net.batch = program.get<int64_t>("batch");
  net.probe_batch = program.get<int64_t>("probe-batch");
  net.train_steps = program.get<int64_t>("train-steps");
  net.lr = program.get<double>("lr");
  net.forget_bias = program.get<double>("forget-bias");
  net.seed = program.seed();
  for (auto [name, v] : std::initializer_list<std::pair<const char*, int64_t>>{
           {"hidden", net.hidden}, {"batch", net.batch}, {"probe-batch", net.probe_batch}})
    experiments::require_positive(name, double(v));
  if (net.T < 2) throw std::invalid_argument("--T: must be >= 2, got " + std::to_string(net.T));
  experiments::require_non_negative("train-steps", double(net.train_steps));
  experiments::require_positive("lr", net.lr);
  return net;
}

ClippingConfig clipping_config(const Program& program) {
  const ClippingConfig clip{.T = program.get<int64_t>("clip-T"),
                            .hidden = program.get<int64_t>("clip-hidden"),
                            .steps = program.get<int64_t>("clip-steps"),
                            .rho = program.get<double>("clip-rho"),
                            .lr = program.get<double>("clip-lr"),
                            .seed = program.seed()};
  if (clip.T < 2) throw std::invalid_argument("--clip-T: must be >= 2, got " + std::to_string(clip.T));
  experiments::require_positive("clip-hidden", double(clip.hidden));
  experiments::require_positive("clip-steps", double(clip.steps));
  experiments::require_positive("clip-lr", clip.lr);
  experiments::require_non_negative("clip-rho", clip.rho);
  return clip;
}

// A list option of numbers, each >= 0.
std::vector<double> non_negative_list(const Program& program, const std::string& option) {
  const std::vector<double> values = experiments::parse_number_list(option, program.get<std::string>(option));
  for (double v : values) experiments::require_non_negative(option, v);
  return values;
}

}  // namespace

void declare_options(Program& program) {
  // The option table: full-run value, then the --quick value where a smoke run differs.
  program.option<std::string>("parts", "scalar,networks,spectral,clipping", "parts to run (comma-separated)");
  program.option<int64_t>("seeds", 3, 1, "networks/clipping: seeds per training, --seed on (comparisons need 3)");
  program.option<int64_t>("scalar-T", 50, "scalar study: steps T");
  program.option<std::string>("ws", "0.5,0.9,1.0,1.1", "scalar study: the w values");
  program.option<int64_t>("T", 100, 50, "networks/spectral: adding-problem length T");
  program.option<int64_t>("hidden", 64, 32, "networks/spectral: hidden units");
  program.option<int64_t>("batch", 32, "networks: training batch");
  program.option<int64_t>("probe-batch", 128, 64, "networks/spectral: held-out batch for the norms");
  program.option<int64_t>("train-steps", 2000, 300, "networks: Adam steps");
  program.option<double>("lr", 2e-3, "networks: Adam learning rate");
  program.option<double>("forget-bias", 1.0, "networks: LSTM forget-gate bias");
  program.option<std::string>("cells", "elman,lstm,gru",
                              "networks: cells (elman = rnn; the GRU in the reset-after form)");
  program.option<std::string>("rhos", "0.5,0.9,1.0,1.1,1.5", "spectral: radii of W_hh");
  program.option<int64_t>("clip-T", 50, "clipping: adding-problem length");
  program.option<int64_t>("clip-hidden", 32, "clipping: hidden units");
  program.option<int64_t>("clip-steps", 600, 200, "clipping: SGD steps");
  program.option<double>("clip-rho", 1.5, "clipping: spectral radius of W_hh");
  program.option<double>("clip-lr", 0.1, "clipping: SGD learning rate");
  program.option<std::string>("thetas", "0,1,5", "clipping: max norms (0 = no clipping)");
  program.flag("eval-only",
               "train nothing: recompute ||dL/dh_k|| of the networks saved in <out>/gradient_study/"
               "networks/checkpoint.sgck under that run's config.ini; writes metrics/eval_gradient_norms.csv");
  program.flag("verify", "afterwards, check that every output exists and parses (exit 2 if not)");
}

Written run_parts(const Program& program, const Hooks& hooks) {
  const std::vector<std::string> names = experiments::parse_name_list("parts", program.get<std::string>("parts"),
                                                                      {"scalar", "networks", "spectral", "clipping"});
  const std::set<std::string> parts(names.begin(), names.end());
  const int64_t scalar_T = program.get<int64_t>("scalar-T");
  experiments::require_positive("scalar-T", double(scalar_T));
  const Context ctx{program, experiments::seed_list(program), hooks};
  const NetworkConfig net = network_config(program);
  const ClippingConfig clip = clipping_config(program);
  const std::vector<CellKind> cells = experiments::cell_list(program);
  const std::vector<double> ws = experiments::parse_number_list("ws", program.get<std::string>("ws"));
  const std::vector<double> rhos = non_negative_list(program, "rhos"), thetas = non_negative_list(program, "thetas");

  Written out;
  auto add = [&](const std::string& part, std::vector<Claim> claims, std::vector<std::string> plots) {
    out.claims.insert(out.claims.end(), claims.begin(), claims.end());
    out.runs.push_back({part, std::move(plots)});
  };
  if (parts.count("scalar")) add("scalar", scalar_part(program, ws, scalar_T), {"gradients"});
  if (parts.count("networks"))
    add("networks", networks_part(ctx, cells, net), {"gradient_norms", "train_loss", "jacobian_spectrum"});
  if (parts.count("spectral")) add("spectral", spectral_part(program, rhos, net), {"gradient_norms"});
  if (parts.count("clipping")) add("clipping", clipping_part(ctx, thetas, clip), {"loss", "grad_norms"});
  return out;
}

int eval_only(const Program& program) {
  const fs::path dir = program.out() / "networks", file = dir / "checkpoint.sgck";
  if (!fs::exists(file))
    throw std::invalid_argument("--eval-only: " + file.string() + ": file not found (run the networks part first)");
  const Program saved = experiments::saved_program(study(), dir);
  const nn::Checkpoint ckpt = nn::load_checkpoint(file.string());
  NetworkConfig cfg = network_config(saved);
  experiments::CsvLog csv(dir / "metrics" / "eval_gradient_norms.csv", {"k", "cell", "seed", "norm"});
  int evaluated = 0;
  for (CellKind cell : experiments::cell_list(saved))
    for (uint64_t seed : experiments::seed_list(saved)) {
      cfg.seed = seed;
      const std::string key = std::string(cell_name(cell)) + "_seed" + std::to_string(seed);
      const GradientProfile p = probe_saved(cell, cfg, ckpt, "param/" + key + "/");
      for (size_t k = 0; k < p.h_norms.size(); ++k)
        csv.row({int64_t(k), std::string(cell_name(cell)), int64_t(seed), p.h_norms[k]});
      std::printf("eval: %-13s |dL/dh_0|/|dL/dh_T-1| = %.6g  probe MSE %.6g\n", key.c_str(), p.ratio(), p.loss);
      ++evaluated;
    }
  std::printf("eval: %d saved networks re-measured, norms in %s\n", evaluated, csv.path().string().c_str());
  return evaluated;
}

experiments::Study study() {
  return {"gradient_study",
          "Experiment 1: vanishing and exploding gradients (scalar, networks, spectral radius, clipping)",
          declare_options, run_parts, eval_only};
}

}  // namespace seqgrad::gradient_study
