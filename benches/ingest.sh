#!/usr/bin/env bash
# Ingest benchmark: rows per second and peak RSS for a 1,000,000-student month.
#
#   benches/ingest.sh [ROWS]                 # default 1000000
#   AIDLINK_SYNTH_DIR=DIR PERIOD=2026-11 benches/ingest.sh
#       also ingests every source of a generator output (DIR/aidlink.toml)
#
# It builds crates/ingest/examples/ingest_bench.rs in release mode, writes a
# synthetic enrollment extract (the demo config's 14 columns, 1 address in 8
# quoted) as UTF-8 with BOM and as GB18030, then reads each with all threads
# and with one thread (RAYON_NUM_THREADS=1) under /usr/bin/time -v. Timing is
# the fastest of 3 runs inside one process; peak RSS is that process's.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cargo build --release -q -p aidlink-ingest --example ingest_bench
BIN=target/release/examples/ingest_bench

run() { # label, env, args...
    local label="$1"; shift
    local threads="$1"; shift
    echo "== $label (threads: ${threads:-all})"
    if [ -n "$threads" ]; then export RAYON_NUM_THREADS="$threads"; else unset RAYON_NUM_THREADS; fi
    /usr/bin/time -v "$BIN" "$@" 2>"$WORK/time.txt"
    grep -E "Maximum resident set size" "$WORK/time.txt" | sed 's/^\s*/peak_rss_/; s/ (kbytes): /_kib=/'
}

"$BIN" gen --rows "$ROWS" --out "$WORK/enrollment_utf8.csv"
"$BIN" gen --rows "$ROWS" --out "$WORK/enrollment_gb18030.csv" --gb18030
ls -l "$WORK"/*.csv | awk '{print "file " $NF " " $5 " bytes"}'

run "UTF-8+BOM CSV" "" read "$WORK/enrollment_utf8.csv" --repeat 3
run "UTF-8+BOM CSV" 1 read "$WORK/enrollment_utf8.csv" --repeat 3
run "GB18030 CSV" "" read "$WORK/enrollment_gb18030.csv" --repeat 3
run "GB18030 CSV" 1 read "$WORK/enrollment_gb18030.csv" --repeat 3

if [ -n "${AIDLINK_SYNTH_DIR:-}" ]; then
    PERIOD="${PERIOD:?set PERIOD=YYYY-MM for the generator output}"
    for s in $(grep -oE '^\[sources\.[a-z_]+\]' "$AIDLINK_SYNTH_DIR/aidlink.toml" | sed 's/\[sources\.//; s/\]//'); do
        run "generator $s" "" source --config "$AIDLINK_SYNTH_DIR/aidlink.toml" --period "$PERIOD" --source "$s" --repeat 3
    done
fi
