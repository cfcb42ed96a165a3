// The progress line. See progress.h.
#include "experiments/common/progress.h"

#include "experiments/common/sweep.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace seqgrad::experiments {

// ---- Progress -----------------------------------------------------------------------------------

struct Progress::Impl {
  using Clock = std::chrono::steady_clock;
  std::string what;
  int64_t total;
  Clock::time_point start = Clock::now(), last_print;
  int64_t items = 0, last_done = 0;
  int last_decile = -1;
  double last_loss = NAN;
  bool tty = ::isatty(2) == 1, printed = false, finished = false, line_open = false;

  std::string line(int64_t done) const {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    char buf[256];
    std::string rate = "-";
    if (elapsed >= 0.1 && items > 0) {
      // Thousands separators: 1,234,567.
      std::string digits = std::to_string(int64_t(items / elapsed + 0.5));
      rate.clear();
      for (size_t i = 0; i < digits.size(); ++i) {
        if (i && (digits.size() - i) % 3 == 0) rate += ',';
        rate += digits[i];
      }
    }
    std::string eta = "-";
    if (done > 0 && done < total) {
      const long long s = (long long)(elapsed * double(total - done) / double(done) + 0.5);
      if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
      else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
      eta = buf;
    } else if (done >= total) {
      std::snprintf(buf, sizeof buf, "done in %.1f s", elapsed);
      eta = buf;
    }
    std::snprintf(buf, sizeof buf, "%s %lld/%lld  loss %.4g  %s items/s  %s%s", what.c_str(), (long long)done,
                  (long long)total, last_loss, rate.c_str(), done >= total ? "" : "ETA ", eta.c_str());
    return buf;
  }
  void print(int64_t done) {
    if (tty) {
      std::fprintf(stderr, "\r%s\033[K", line(done).c_str());
      line_open = true;
    } else {
      std::fprintf(stderr, "%s\n", line(done).c_str());
    }
    std::fflush(stderr);
    printed = true;
    last_print = Clock::now();
  }
};

Progress::Progress(std::string what, int64_t total) : impl_(std::make_shared<Impl>()) {
  impl_->what = rank_count() > 1 ? "rank " + std::to_string(rank()) + ": " + what : std::move(what);
  impl_->total = std::max<int64_t>(total, 1);
}

void Progress::update(int64_t done, double loss, int64_t items) {
  Impl& m = *impl_;
  m.items += items;
  m.last_loss = loss;
  m.last_done = done;
  if (m.tty) {
    if (!m.printed || done >= m.total || Impl::Clock::now() - m.last_print >= std::chrono::milliseconds(250))
      m.print(done);
  } else {
    const int decile = int(std::min<int64_t>(done, m.total) * 10 / m.total);
    if (decile > m.last_decile) {
      m.last_decile = decile;
      m.print(done);
    }
  }
}

void Progress::finish() {
  Impl& m = *impl_;
  if (m.finished) return;
  m.finished = true;
  if (m.tty) {
    m.print(m.last_done);
    std::fputc('\n', stderr);
  } else if (m.last_decile < 10) {
    m.print(m.last_done);
  }
  std::fflush(stderr);
}
}  // namespace seqgrad::experiments
