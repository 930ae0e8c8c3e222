#!/usr/bin/env bash
# Runs aidlink and Splink on the same generated city and prints wall time,
# peak RSS and pairwise F1 side by side.
#
#   scripts/bench_vs_splink.sh [STUDENTS] [SEED]
#
# aidlink is timed twice: end to end (raw extracts to published Parquet,
# including ingest, normalize, flags and publish), and its match stage alone
# (blocking to clustering and the links table, from the normalized records
# in memory, read from the run's JSON log). Splink (DuckDB backend, installed
# from PyPI into a virtual environment) starts from aidlink's normalized
# record table, so it gets the normalization (pinyin, ID folding) for free
# and its time excludes reading the extracts. Both use comparable blocking
# (same ID, birth date + name pinyin, birth date + surname, guardian +
# surname, household + surname) and comparisons (ID edits, name pinyin
# with term frequencies, given-name Jaro-Winkler, birth date edits, gender,
# guardian as the one household comparison: with phone and address too,
# Splink links siblings and its precision falls to about 0.5).
# Environment: WORK (default target/bench-splink), VENV, THREADS (default 2).
set -euo pipefail

STUDENTS="${1:-20000}"
SEED="${2:-7}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${WORK:-$ROOT/target/bench-splink}"
VENV="${VENV:-$WORK/venv}"
THREADS="${THREADS:-2}"
PERIOD=2026-01
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet 'splink>=4' duckdb pyarrow
fi
SPLINK_VERSION="$("$VENV/bin/python" -c 'import splink; print(splink.__version__)')"

(cd "$ROOT" && cargo build --release --quiet -p aidlink)
AIDLINK="$ROOT/target/release/aidlink"

CITY="$WORK/city-$STUDENTS-$SEED"
OUT="$WORK/out-$STUDENTS-$SEED"
if [ ! -d "$CITY/truth/$PERIOD" ]; then
  "$AIDLINK" synth --students "$STUDENTS" --seed "$SEED" --months 1 --out "$CITY" >/dev/null 2>&1
fi
rm -rf "$OUT"

# Peak RSS (KiB) and wall time of a command, from GNU time.
measure() {
  local log="$1"; shift
  /usr/bin/time -v "$@" >"$log.out" 2>"$log.err"
  local wall rss
  wall="$(grep 'Elapsed (wall clock)' "$log.err" | awk '{print $NF}')"
  rss="$(grep 'Maximum resident set size' "$log.err" | awk '{print $NF}')"
  echo "$wall $rss"
}

read -r A_WALL A_RSS < <(measure "$WORK/aidlink" "$AIDLINK" -v --log-format json run --config "$CITY/aidlink.toml" \
  --period "$PERIOD" --out "$OUT" --threads "$THREADS")
"$AIDLINK" evaluate --out "$OUT" --period "$PERIOD" --truth "$CITY/truth" >"$WORK/evaluate.txt"
A_F1="$(awk '$1 == "aidlink" {print $4}' "$WORK/evaluate.txt")"
A_P="$(awk '$1 == "aidlink" {print $2}' "$WORK/evaluate.txt")"
E_F1="$(awk '$1 == "exact" {print $5}' "$WORK/evaluate.txt")"
# The match stage's own time, from its "matched" log line.
A_MATCH_MS="$(grep '"message":"matched"' "$WORK/aidlink.err" | sed 's/.*"ms":\([0-9]*\).*/\1/')"

RECORDS="$OUT/periods/$PERIOD/restricted/records.parquet"
[ -f "$RECORDS" ] || RECORDS="$OUT/periods/$PERIOD/records.parquet"
read -r S_WALL S_RSS < <(measure "$WORK/splink" "$VENV/bin/python" "$ROOT/scripts/splink/run_splink.py" \
  "$RECORDS" "$CITY/truth/$PERIOD/rows.csv" "$THREADS")
S_F1="$(awk '$1 == "splink_f1" {print $2}' "$WORK/splink.out")"
S_P="$(awk '$1 == "splink_precision" {print $2}' "$WORK/splink.out")"
S_INNER="$(awk '$1 == "splink_wall_s" {print $2}' "$WORK/splink.out")"

printf '\ncity: %s students, seed %s, %s threads\n' "$STUDENTS" "$SEED" "$THREADS"
printf '%-28s %14s %14s %10s %10s\n' tool wall peak_rss_MiB precision F1
printf '%-28s %14s %14d %10s %10s\n' "aidlink (end to end)" "$A_WALL" "$((A_RSS / 1024))" "$A_P" "$A_F1"
printf '%-28s %14s %14d %10s %10s\n' "splink $SPLINK_VERSION (link only)" "$S_WALL" "$((S_RSS / 1024))" "$S_P" "$S_F1"
printf '%-28s %14s %14s %10s %10s\n' "exact ID (aidlink)" - - - "$E_F1"
printf 'splink time inside python (load, train, predict, cluster): %ss\n' "$S_INNER"
printf 'aidlink match stage (block, compare, train, score, cluster): %ss\n' \
  "$(echo "scale=2; $A_MATCH_MS / 1000" | bc -l)"
to_s() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$1"; }
printf 'ratio end to end (splink link only / aidlink whole run): %.1fx\n' \
  "$(echo "$(to_s "$S_WALL") / $(to_s "$A_WALL")" | bc -l)"
printf 'ratio link only (splink inside python / aidlink match stage): %.1fx\n' \
  "$(echo "$S_INNER / ($A_MATCH_MS / 1000)" | bc -l)"
