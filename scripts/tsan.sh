#!/usr/bin/env bash
# ThreadSanitizer run of the tests (never in CI: see README, "Reliability").
#
#   bash scripts/tsan.sh                      # the whole suite
#   bash scripts/tsan.sh '[determinism],[gemm]'   # a Catch2 test spec
#
# TSan only sees synchronisation in code it instrumented. Debian's libtbb.so is not, so every hand-off
# between a caller and TBB's workers looks like a race. This script therefore builds the SAME oneTBB
# that libtbb-dev installed (Debian's source package, fetched with apt-get source through a private
# apt configuration that leaves the system's untouched) with -fsanitize=thread, once, into
# build-tsan/tbb/install/, builds the tests against it in build-tsan/ (-O1 -g) and runs them with
# halt_on_error, so any report fails the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
spec=${1-}

bash scripts/setup.sh --packages-only dpkg-dev

# --- oneTBB with -fsanitize=thread, built once per Debian version ----------------------------------
tbb_version=$(dpkg-query -W -f='${source:Version}' libtbb-dev)
tbb_package=$(dpkg-query -W -f='${source:Package}' libtbb-dev)
tbb=$root/build-tsan/tbb
stamp=$tbb/install/built-$tbb_version

fetch_tbb_source() {
  # deb-src twins of the system's Debian sources (deb822 files signed by Debian's archive key, and
  # one-line "deb" entries), in a private apt state directory.
  local apt=$tbb/apt
  rm -rf "$apt" && mkdir -p "$apt/parts" "$apt/lists/partial" && : >"$apt/empty.list"
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] && grep -q debian-archive-keyring "$f" && sed 's/^Types:.*/Types: deb-src/' "$f" >"$apt/parts/$(basename "$f")"
  done
  if [ -e /etc/apt/sources.list ]; then
    grep -E '^deb[[:space:]].*/debian' /etc/apt/sources.list | sed 's/^deb\b/deb-src/' >"$apt/parts/system.list" || true
  fi
  local opts=(-o "Dir::Etc::SourceList=$apt/empty.list" -o "Dir::Etc::SourceParts=$apt/parts" -o "Dir::State::Lists=$apt/lists")
  apt-get "${opts[@]}" update -qq
  (cd "$tbb" && apt-get "${opts[@]}" source --download-only -qq "$tbb_package=$tbb_version")
  # apt checked the files against the archive's signed index; dpkg-source warns that it cannot check
  # the uploader's signature too (that needs debian-keyring), so its chatter goes to a log.
  (cd "$tbb" && dpkg-source -x ./*.dsc src >dpkg-source.log 2>&1) || { cat "$tbb/dpkg-source.log" >&2; exit 1; }
}

if [ ! -e "$stamp" ]; then
  echo "tsan: building $tbb_package $tbb_version with -fsanitize=thread (once)"
  rm -rf "$tbb" && mkdir -p "$tbb"
  fetch_tbb_source
  # Only libtbb: seqgrad links nothing else of oneTBB. GCC warns (-Wtsan) that TSan ignores
  # atomic_thread_fence; TBB_STRICT=OFF keeps that from being an error, -Wno-tsan keeps it quiet.
  cmake -S "$tbb/src" -B "$tbb/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTBB_SANITIZE=thread -DTBB_STRICT=OFF \
    -DCMAKE_CXX_FLAGS=-Wno-tsan \
    -DTBB_TEST=OFF -DTBB_EXAMPLES=OFF -DTBBMALLOC_BUILD=OFF -DTBBMALLOC_PROXY_BUILD=OFF \
    -DTBB_DISABLE_HWLOC_AUTOMATIC_SEARCH=ON -DCMAKE_INSTALL_PREFIX="$tbb/install" >/dev/null
  cmake --build "$tbb/build" -j"$(nproc)"
  cmake --install "$tbb/build" >/dev/null
  touch "$stamp"
fi

# --- the tests, against that libtbb ---------------------------------------------------------------
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g" -DSEQGRAD_SANITIZE=thread \
  -DTBB_DIR="$tbb/install/lib/cmake/TBB" -DSEQGRAD_BUILD_BENCH=OFF -DSEQGRAD_BUILD_EXPERIMENTS=OFF >/dev/null
cmake --build build-tsan -j"$(nproc)" --target seqgrad_tests
tests=build-tsan/tests/seqgrad_tests
if ! ldd "$tests" | grep "$tbb/install/lib/libtbb" >/dev/null; then  # (grep -q would SIGPIPE ldd)
  echo "tsan: $tests does not load the instrumented libtbb from $tbb/install/lib" >&2
  exit 1
fi
echo "== ThreadSanitizer: seqgrad_tests ${spec:-(all)}"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" "$tests" ${spec:+"$spec"}

# The canary: a deliberate race between two parallel_for bodies must be reported, or the run above
# proved nothing.
if TSAN_OPTIONS="halt_on_error=1" "$tests" "[.tsan-canary]" >build-tsan/canary.log 2>&1 ||
   ! grep "WARNING: ThreadSanitizer: data race" build-tsan/canary.log >/dev/null; then
  cat build-tsan/canary.log >&2
  echo "tsan: the deliberate race in \"tsan canary\" was NOT reported; TSan is blind here" >&2
  exit 1
fi
echo "tsan: clean, and the canary race was reported (build-tsan/canary.log)"
