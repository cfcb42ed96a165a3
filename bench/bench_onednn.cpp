// Same-run reference for BM_train_step (bench_train.cpp): one training step of oneDNN's fused RNN
// primitives — forward_training with workspace, loss = MSE to a fixed target, backward producing
// diff_src_layer, diff_weights_layer, diff_weights_iter and diff_bias — for LSTM, linear-before-reset
// GRU (= PyTorch's nn.GRU = seqgrad's GruForm::reset_after) and tanh vanilla RNN. f32, one layer,
// unidirectional, zero initial state, data in tnc. Optional target: built only when Debian's
// libdnnl-dev is installed (bench/CMakeLists.txt); the library never depends on it.
//
// Weights: the user's copy is ldgoi (PyTorch's (G·H, I) row-major); the primitives pick their own
// formats (format_tag::any) and the user's copy is reordered once, outside the timed loop, as a
// real user keeps weights in the forward primitive's format. When backward wants another format
// than forward, that reorder runs INSIDE the loop: after an optimiser update the backward copy is
// stale, so a training step has to pay it. Gradients are zeroed each step (oneDNN accumulates into
// diff_weights / diff_bias), like seqgrad's zero_grad().
//
// The initial state is an explicit zero memory (src_iter, and src_iter_c for the LSTM), with
// diff_src_iter produced, rather than a zero memory descriptor: with the zero descriptor, Debian's
// oneDNN 2.6.3 returns a wrong diff_weights_iter for the LSTM and the vanilla RNN (relative error
// 1e-3 and 5e-2 at the --check shape; the lbr GRU was right), while outputs, diff_src and the
// other gradients are right. PyTorch's mkldnn path also passes explicit zero hx.
//
// Threads: Debian's oneDNN 2.6 uses OpenMP (DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP, libgomp), so
// the "threads" argument calls omp_set_num_threads before the primitives are created (their JIT
// kernels and partitioning are chosen for the thread count at creation). A TBB build would be
// capped with tbb::global_control instead.
//
// Names parallel BM_train_step so a script can pair them:
//   BM_onednn_train_step/cell:0/B:64/T:100/I:128/H:256/threads:2   (cell 0 LSTM, 1 GRU, 2 RNN)
// Counter fwd_gemm_flops = 2·T·B·G·H·(I + H) (G = 4, 3, 1): the forward GEMM work of one step.
//
// `seqgrad_bench_onednn --check` instead runs each cell at a tiny shape with seqgrad's weights and
// compares outputs and all gradients with nn::Lstm / nn::Gru(reset_after) / nn::Elman.
#include <benchmark/benchmark.h>

#include <oneapi/dnnl/dnnl.hpp>
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_TBB
#include <oneapi/tbb/global_control.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "autograd/ops.h"
#include "autograd/rng.h"
#include "nn/cells.h"
#include "nn/recurrent.h"

namespace {

using dnnl::memory;
using tag = memory::format_tag;

enum Kind : int64_t { kLstm = 0, kGru = 1, kRnn = 2 };  // same values as bench_train.cpp

int64_t gates(int64_t kind) { return kind == kLstm ? 4 : kind == kGru ? 3 : 1; }
int64_t bias_gates(int64_t kind) { return kind == kRnn ? 1 : 4; }  // lbr GRU: b_u, b_r, b_o, b_hn

// Caps oneDNN's threads for the lifetime of the object.
class ThreadLimit {
 public:
  explicit ThreadLimit(int n) {
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
    omp_set_num_threads(n);
#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_TBB
    limit_ = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, size_t(n));
#else
    (void)n;  // sequential build: 1 thread whatever is asked
#endif
  }

 private:
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_TBB
  std::unique_ptr<tbb::global_control> limit_;
#endif
};

float* f32(const memory& m) { return static_cast<float*>(m.get_data_handle()); }

// "ldigo"-like name of a plain layout (strides order), or "packed".
std::string layout(const memory::desc& md) {
  if (md.data.format_kind == dnnl_format_kind_rnn_packed) return "packed";
  if (md.data.format_kind != dnnl_blocked) return "other";
  const char* names = "ldigo";
  std::vector<int> order{0, 1, 2, 3, 4};
  const auto& st = md.data.format_desc.blocking.strides;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return st[a] > st[b]; });
  std::string s;
  for (int d : order) s += names[d];
  return s;
}

// One training step of one fused RNN layer, with the user-side buffers:
//   x, target, y, dy, dx: (T, B, ·) tnc;  user_wl (G·H, I) and user_wi (G·H, H) as ldgoi;  bias (Gb, H).
struct TrainStep {
  int64_t kind, B, T, I, H;
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  memory x, target, y, dy, dx, ws;
  memory h0, c0, dh0, dc0;        // zero initial state and its gradient (c: LSTM only)
  memory user_wl, user_wi, bias;  // the user's weights (ldgoi)
  memory wl, wi;                  // forward-format copies (what the user keeps)
  memory wl_b, wi_b;              // backward-format copies (alias wl / wi when formats agree)
  memory dwl, dwi, dbias;         // gradients, in the backward primitive's formats
  dnnl::primitive fwd, bwd;
  std::unordered_map<int, memory> fwd_args, bwd_args;
  std::vector<std::tuple<dnnl::reorder, memory, memory>> per_step_reorders;  // forward -> backward format
  std::string formats;

  TrainStep(int64_t kind_, int64_t B_, int64_t T_, int64_t I_, int64_t H_) : kind(kind_), B(B_), T(T_), I(I_), H(H_) {
    using dt = memory::data_type;
    const int64_t G = gates(kind), Gb = bias_gates(kind);
    auto md = [](memory::dims d, tag t) { return memory::desc(d, dt::f32, t); };
    const memory::desc none;                      // zero md: no final state returned
    const auto s0 = md({1, 1, B, H}, tag::ldnc);  // initial state h0 (and c0): explicit zeros, see top
    const auto s0c = kind == kLstm ? s0 : none;
    const auto src = md({T, B, I}, tag::tnc), dst = md({T, B, H}, tag::tnc);
    const auto wl_any = md({1, 1, I, G, H}, tag::any), wi_any = md({1, 1, H, G, H}, tag::any);
    const auto b = md({1, 1, Gb, H}, tag::ldgo);
    const auto dir = dnnl::rnn_direction::unidirectional_left2right;
    const auto train = dnnl::prop_kind::forward_training, back = dnnl::prop_kind::backward;
    dnnl::rnn_primitive_desc_base fpd, bpd;
    if (kind == kLstm) {
      dnnl::lstm_forward::primitive_desc f({train, dir, src, s0, s0c, wl_any, wi_any, b, dst, none, none}, eng);
      dnnl::lstm_backward::primitive_desc g({back, dir, src, s0,  s0c,    wl_any, wi_any, b,   dst,  none,
                                             none, src, s0,  s0c, wl_any, wi_any, b,      dst, none, none},
                                            eng, f);
      fwd = dnnl::lstm_forward(f), bwd = dnnl::lstm_backward(g), fpd = f, bpd = g;
    } else if (kind == kGru) {
      dnnl::lbr_gru_forward::primitive_desc f({train, dir, src, s0, wl_any, wi_any, b, dst, none}, eng);
      dnnl::lbr_gru_backward::primitive_desc g(
          {back, dir, src, s0, wl_any, wi_any, b, dst, none, src, s0, wl_any, wi_any, b, dst, none}, eng, f);
      fwd = dnnl::lbr_gru_forward(f), bwd = dnnl::lbr_gru_backward(g), fpd = f, bpd = g;
    } else {
      const auto act = dnnl::algorithm::eltwise_tanh;
      dnnl::vanilla_rnn_forward::primitive_desc f({train, act, dir, src, s0, wl_any, wi_any, b, dst, none}, eng);
      dnnl::vanilla_rnn_backward::primitive_desc g(
          {back, act, dir, src, s0, wl_any, wi_any, b, dst, none, src, s0, wl_any, wi_any, b, dst, none}, eng, f);
      fwd = dnnl::vanilla_rnn_forward(f), bwd = dnnl::vanilla_rnn_backward(g), fpd = f, bpd = g;
    }
    x = memory(src, eng), dx = memory(src, eng);
    y = memory(dst, eng), dy = memory(dst, eng), target = memory(dst, eng);
    ws = memory(fpd.workspace_desc(), eng);
    h0 = memory(s0, eng), dh0 = memory(s0, eng);
    std::memset(h0.get_data_handle(), 0, s0.get_size());
    if (kind == kLstm) {
      c0 = memory(s0, eng), dc0 = memory(s0, eng);
      std::memset(c0.get_data_handle(), 0, s0.get_size());
    }
    user_wl = memory(md({1, 1, I, G, H}, tag::ldgoi), eng);
    user_wi = memory(md({1, 1, H, G, H}, tag::ldgoi), eng);
    bias = memory(b, eng);
    wl = memory(fpd.weights_layer_desc(), eng), wi = memory(fpd.weights_iter_desc(), eng);
    wl_b = bpd.weights_layer_desc() == wl.get_desc() ? wl : memory(bpd.weights_layer_desc(), eng);
    wi_b = bpd.weights_iter_desc() == wi.get_desc() ? wi : memory(bpd.weights_iter_desc(), eng);
    for (auto [from, to] : {std::pair{wl, wl_b}, std::pair{wi, wi_b}})
      if (from.get_data_handle() != to.get_data_handle())
        per_step_reorders.emplace_back(dnnl::reorder(from, to), from, to);
    dwl = memory(bpd.diff_weights_layer_desc(), eng), dwi = memory(bpd.diff_weights_iter_desc(), eng);
    dbias = memory(bpd.diff_bias_desc(), eng);
    auto both = [](const memory& m1, const memory& m2) {  // "ldigo", or "ldigo/ldgoi" (layer/iter) if they differ
      const std::string la = layout(m1.get_desc()), lb = layout(m2.get_desc());
      return la == lb ? la : la + "/" + lb;
    };
    formats = "weights fwd " + both(wl, wi) + " bwd " + both(wl_b, wi_b) + " grads " + both(dwl, dwi);
    fwd_args = {{DNNL_ARG_SRC_LAYER, x}, {DNNL_ARG_WEIGHTS_LAYER, wl}, {DNNL_ARG_WEIGHTS_ITER, wi},
                {DNNL_ARG_BIAS, bias},   {DNNL_ARG_DST_LAYER, y},      {DNNL_ARG_WORKSPACE, ws}};
    bwd_args = {{DNNL_ARG_SRC_LAYER, x},
                {DNNL_ARG_WEIGHTS_LAYER, wl_b},
                {DNNL_ARG_WEIGHTS_ITER, wi_b},
                {DNNL_ARG_BIAS, bias},
                {DNNL_ARG_DST_LAYER, y},
                {DNNL_ARG_WORKSPACE, ws},
                {DNNL_ARG_DIFF_DST_LAYER, dy},
                {DNNL_ARG_DIFF_SRC_LAYER, dx},
                {DNNL_ARG_DIFF_WEIGHTS_LAYER, dwl},
                {DNNL_ARG_DIFF_WEIGHTS_ITER, dwi},
                {DNNL_ARG_DIFF_BIAS, dbias}};
    fwd_args[DNNL_ARG_SRC_ITER] = bwd_args[DNNL_ARG_SRC_ITER] = h0;
    bwd_args[DNNL_ARG_DIFF_SRC_ITER] = dh0;
    if (kind == kLstm) {
      fwd_args[DNNL_ARG_SRC_ITER_C] = bwd_args[DNNL_ARG_SRC_ITER_C] = c0;
      bwd_args[DNNL_ARG_DIFF_SRC_ITER_C] = dc0;
    }
  }

  // After the user's weights changed: into the primitive's formats (outside the timed loop).
  void load_weights() {
    dnnl::reorder(user_wl, wl).execute(strm, user_wl, wl);
    dnnl::reorder(user_wi, wi).execute(strm, user_wi, wi);
    strm.wait();
  }

  // zero_grad, forward, MSE loss and its gradient, backward. Returns the loss.
  double run() {
    for (const memory& m : {dwl, dwi, dbias}) std::memset(m.get_data_handle(), 0, m.get_desc().get_size());
    for (auto& [r, from, to] : per_step_reorders) r.execute(strm, from, to);
    fwd.execute(strm, fwd_args);
    strm.wait();
    // loss = mean((y − target)²), dy = 2 (y − target) / n: the same loss as BM_train_step.
    const int64_t n = T * B * H;
    const float *yp = f32(y), *tp = f32(target);
    float* dyp = f32(dy);
    const float scale = 2.0f / float(n);
    double loss = 0;
    for (int64_t k = 0; k < n; ++k) {
      const float d = yp[k] - tp[k];
      loss += double(d) * d;
      dyp[k] = scale * d;
    }
    bwd.execute(strm, bwd_args);
    strm.wait();
    return loss / double(n);
  }
};

// Fills a plain f32 memory with U(lo, hi) from seqgrad's generator (deterministic).
void fill_uniform(const memory& m, seqgrad::Rng& rng, float lo, float hi) {
  const size_t n = m.get_desc().get_size() / sizeof(float);
  const seqgrad::Tensor t = seqgrad::Tensor::uniform({int64_t(n)}, rng, lo, hi);
  std::memcpy(m.get_data_handle(), t.data<float>(), n * sizeof(float));
}

// Args: kind, B, T, I, H, threads (as BM_train_step).
void BM_onednn_train_step(benchmark::State& state) {
  const int64_t kind = state.range(0), B = state.range(1), T = state.range(2), I = state.range(3), H = state.range(4);
  ThreadLimit limit(int(state.range(5)));
  TrainStep step(kind, B, T, I, H);
  seqgrad::Rng rng(42);
  const float a = 1.0f / std::sqrt(float(H));
  for (const memory& m : {step.user_wl, step.user_wi, step.bias}) fill_uniform(m, rng, -a, a);
  fill_uniform(step.x, rng, -1, 1);
  fill_uniform(step.target, rng, -1, 1);
  step.load_weights();
  double loss = step.run();  // untimed warm-up: JIT kernels, first touch of the buffers, OpenMP pool
  for (auto _ : state) loss = step.run();
  benchmark::DoNotOptimize(loss);
  if (!std::isfinite(loss)) state.SkipWithError("loss is not finite");
  state.counters["fwd_gemm_flops"] = 2.0 * double(T * B * gates(kind) * H * (I + H));
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
  state.counters["omp_threads"] = omp_get_max_threads();  // proof that the thread argument took
#endif
  state.SetLabel(step.formats);
}

void train_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {1, 2})
    for (int64_t kind : {kLstm, kGru, kRnn}) {
      b->Args({kind, 32, 50, 64, 128, threads});
      b->Args({kind, 64, 100, 128, 256, threads});
      b->Args({kind, 64, 100, 256, 512, threads});
    }
}

BENCHMARK(BM_onednn_train_step)
    ->Apply(train_shapes)
    ->ArgNames({"cell", "B", "T", "I", "H", "threads"})
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

// ---- --check: the same step against seqgrad's cells at a tiny shape --------------------------

// oneDNN's gate g holds seqgrad's gate perm[g]: LSTM i f g o = i f c̃ o; GRU oneDNN u r o vs
// seqgrad r z n.
int64_t seqgrad_gate(int64_t kind, int64_t g) { return kind == kGru ? (g == 0 ? 1 : g == 1 ? 0 : 2) : g; }

// Largest |a − b| / (1 + |b|) between a oneDNN ldgoi matrix (G gates, H rows each, C columns) and a
// seqgrad (G·H, C) matrix with its gates permuted.
double gate_matrix_error(int64_t kind, const float* dnnl_ldgoi, const float* ours, int64_t H, int64_t C) {
  double e = 0;
  for (int64_t g = 0; g < gates(kind); ++g)
    for (int64_t o = 0; o < H; ++o)
      for (int64_t c = 0; c < C; ++c) {
        const float d = dnnl_ldgoi[(g * H + o) * C + c], s = ours[(seqgrad_gate(kind, g) * H + o) * C + c];
        e = std::max(e, std::abs(double(d) - s) / (1 + std::abs(double(s))));
      }
  return e;
}

int check() {
  using namespace seqgrad;
  const int64_t B = 3, T = 5, I = 4, H = 6;
  ThreadLimit limit(2);
  bool ok = true;
  for (int64_t kind : {kLstm, kGru, kRnn}) {
    const int64_t G = gates(kind);
    Rng rng(11);
    std::unique_ptr<nn::Cell> cell;
    nn::Gru* gru = nullptr;
    if (kind == kLstm) cell = std::make_unique<nn::Lstm>(I, H, rng);
    if (kind == kGru) cell = std::make_unique<nn::Gru>(I, H, rng, nn::GruForm::reset_after), gru = (nn::Gru*)cell.get();
    if (kind == kRnn) cell = std::make_unique<nn::Elman>(I, H, rng);
    std::vector<nn::Parameter*> p;  // weight_ih, weight_hh, bias (+ bias_hn)
    for (auto& [name, param] : cell->named_parameters()) p.push_back(param);
    const Tensor x = Tensor::uniform({B, T, I}, rng, -1, 1), target = Tensor::uniform({B, T, H}, rng, -1, 1);
    Tape tape(1024);
    cell->zero_grad();
    Var xv = tape.variable(x);
    Var out = nn::unroll(*cell, xv).output;  // (B, T, H)
    Var loss = mse(out, tape.constant(target));
    tape.backward(loss);

    TrainStep step(kind, B, T, I, H);
    // weights: seqgrad (G·H, C) row-major = ldgoi with the gates permuted
    for (auto [m, src, C] : {std::tuple{step.user_wl, p[0], I}, std::tuple{step.user_wi, p[1], H}})
      for (int64_t g = 0; g < G; ++g)
        std::memcpy(f32(m) + g * H * C, src->value.data<float>() + seqgrad_gate(kind, g) * H * C,
                    size_t(H * C) * sizeof(float));
    for (int64_t g = 0; g < G; ++g)
      std::memcpy(f32(step.bias) + g * H, p[2]->value.data<float>() + seqgrad_gate(kind, g) * H, H * sizeof(float));
    if (gru) std::memcpy(f32(step.bias) + 3 * H, gru->bias_hn.value.data<float>(), H * sizeof(float));
    for (int64_t t = 0; t < T; ++t)  // (B, T, ·) -> (T, B, ·)
      for (int64_t b = 0; b < B; ++b) {
        std::memcpy(f32(step.x) + (t * B + b) * I, x.data<float>() + (b * T + t) * I, I * sizeof(float));
        std::memcpy(f32(step.target) + (t * B + b) * H, target.data<float>() + (b * T + t) * H, H * sizeof(float));
      }
    step.load_weights();
    step.run();
    const double dnnl_loss = step.run();  // twice: gradients must not accumulate across steps

    double e_out = 0;
    const float* o = out.value().data<float>();
    for (int64_t t = 0; t < T; ++t)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h)
          e_out = std::max(e_out, double(std::abs(f32(step.y)[(t * B + b) * H + h] - o[(b * T + t) * H + h])));
    // gradients back to ldgoi
    memory gwl(step.user_wl.get_desc(), step.eng), gwi(step.user_wi.get_desc(), step.eng);
    dnnl::reorder(step.dwl, gwl).execute(step.strm, step.dwl, gwl);
    dnnl::reorder(step.dwi, gwi).execute(step.strm, step.dwi, gwi);
    step.strm.wait();
    const double e_wl = gate_matrix_error(kind, f32(gwl), p[0]->grad.data<float>(), H, I);
    const double e_wi = gate_matrix_error(kind, f32(gwi), p[1]->grad.data<float>(), H, H);
    double e_b = gate_matrix_error(kind, f32(step.dbias), p[2]->grad.data<float>(), H, 1);
    if (gru)
      for (int64_t h = 0; h < H; ++h)
        e_b = std::max(e_b, double(std::abs(f32(step.dbias)[3 * H + h] - gru->bias_hn.grad.data<float>()[h])));
    double e_dx = 0;
    const Tensor gx = xv.grad();
    for (int64_t t = 0; t < T; ++t)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < I; ++i)
          e_dx = std::max(e_dx,
                          double(std::abs(f32(step.dx)[(t * B + b) * I + i] - gx.data<float>()[(b * T + t) * I + i])));
    const double worst = std::max({e_out, e_wl, e_wi, e_b, e_dx, std::abs(dnnl_loss - loss.item())});
    const bool pass = worst < 1e-5;
    ok = ok && pass;
    std::printf("%s: loss %.7f (seqgrad %.7f); max err out %.1e, dW_ih %.1e, dW_hh %.1e, db %.1e, dx %.1e  [%s] %s\n",
                kind == kLstm  ? "lstm"
                : kind == kGru ? "lbr_gru"
                               : "rnn",
                dnnl_loss, loss.item(), e_out, e_wl, e_wi, e_b, e_dx, step.formats.c_str(), pass ? "ok" : "MISMATCH");
  }
  const dnnl_version_t* v = dnnl_version();
  std::printf("oneDNN %d.%d.%d, cpu runtime %s\n", v->major, v->minor, v->patch,
              v->cpu_runtime == DNNL_RUNTIME_OMP   ? "OpenMP"
              : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB"
                                                   : "other");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--check") return check();
  const dnnl_version_t* v = dnnl_version();
  benchmark::AddCustomContext(
      "onednn_version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  benchmark::AddCustomContext("onednn_cpu_runtime", v->cpu_runtime == DNNL_RUNTIME_OMP   ? "OpenMP"
                                                    : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB"
                                                                                         : "other");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
