#!/usr/bin/env bash
# Copies a finished run folder into results/ without what is large or machine-local (checkpoints,
# units, gnuplot scripts and SVGs): config.ini, env.json, metrics.json, claims.json, metrics/*.csv,
# plots/*.png.   bash results/collect.sh <run folder> <destination under results/>
set -euo pipefail
src=${1:?run folder}; dst=${2:?destination}
mkdir -p "$dst/metrics" "$dst/plots"
for f in config.ini env.json metrics.json claims.json; do cp "$src/$f" "$dst/"; done
cp "$src"/metrics/*.csv "$dst/metrics/"
cp "$src"/plots/*.png "$dst/plots/" 2>/dev/null || true
