#!/usr/bin/env bash
# Ingest benchmark: rows per second and peak RSS for a 1,000,000-student month.
#
#   benches/ingest.sh [ROWS]                 # default 1000000
#   AIDLINK_SYNTH_DIR=DIR PERIOD=2026-11 benches/ingest.sh
#       also ingests every source of a generator output (DIR/aidlink.toml)
#   BEFORE_BIN=FILE benches/ingest.sh
#       also runs every case with FILE (an ingest_bench built from another
#       commit), right after the current build, and prints after/before ratios
#
# It builds crates/ingest/examples/ingest_bench.rs in release mode, writes a
# synthetic enrollment extract (the demo config's 14 columns, 1 address in 8
# quoted) as UTF-8 with BOM and as GB18030, then reads each with all threads
# and with one thread (RAYON_NUM_THREADS=1) under /usr/bin/time. Wall time is
# the fastest of 3 runs inside one process; CPU time is the process's user +
# system time divided by 3; peak RSS is the process's (one run's tables are
# dropped before the next run starts).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cargo build --release -q -p aidlink-ingest --example ingest_bench
BIN=target/release/examples/ingest_bench
BEFORE_BIN="${BEFORE_BIN:-}"

REPEAT=3
once() { # binary, tag, args... ; prints the figures, leaves "rows cpu rss_kib wall" in $WORK/last.txt
    local bin="$1"; shift
    local tag="$1"; shift
    /usr/bin/time -f "%U %S %M" -o "$WORK/time.txt" "$bin" "$@" --repeat "$REPEAT" > "$WORK/out.txt"
    sed "s/^/$tag /" "$WORK/out.txt"
    local rows wall
    rows=$(grep -oE 'rows_read=[0-9]+' "$WORK/out.txt" | cut -d= -f2)
    wall=$(grep -oE 'seconds=[0-9.]+' "$WORK/out.txt" | cut -d= -f2)
    # CPU time (user + system) is what a loaded machine cannot inflate much:
    # rows per CPU second is the per-core figure.
    awk -v rows="$rows" -v rep="$REPEAT" -v tag="$tag" -v wall="$wall" -v last="$WORK/last.txt" '{cpu = ($1 + $2) / rep; printf "%s cpu_seconds_per_run=%.3f rows_per_cpu_second=%.0f peak_rss_mib=%.0f\n", tag, cpu, rows / cpu, $3 / 1024; printf "%s %s %s %s\n", rows, cpu, $3, wall > last}' "$WORK/time.txt"
}
run() { # label, threads (empty: all), args...
    local label="$1"; shift
    local threads="$1"; shift
    echo "== $label (threads: ${threads:-all})"
    if [ -n "$threads" ]; then export RAYON_NUM_THREADS="$threads"; else unset RAYON_NUM_THREADS; fi
    once "$BIN" "after " "$@"
    if [ -n "$BEFORE_BIN" ]; then
        local after
        after=$(cat "$WORK/last.txt")
        once "$BEFORE_BIN" "before" "$@"
        echo "$after $(cat "$WORK/last.txt")" | awk '{printf "ratio after/before: wall %.2f, cpu %.2f, peak_rss %.2f (rows %s vs %s)\n", $4 / $8, $2 / $6, $3 / $7, $1, $5}'
    fi
}

"$BIN" gen --rows "$ROWS" --out "$WORK/enrollment_utf8.csv"
"$BIN" gen --rows "$ROWS" --out "$WORK/enrollment_gb18030.csv" --gb18030
ls -l "$WORK"/*.csv | awk '{print "file " $NF " " $5 " bytes"}'

run "UTF-8+BOM CSV" "" read "$WORK/enrollment_utf8.csv"
run "UTF-8+BOM CSV" 1 read "$WORK/enrollment_utf8.csv"
run "GB18030 CSV" "" read "$WORK/enrollment_gb18030.csv"
run "GB18030 CSV" 1 read "$WORK/enrollment_gb18030.csv"

if [ -n "${AIDLINK_SYNTH_DIR:-}" ]; then
    PERIOD="${PERIOD:?set PERIOD=YYYY-MM for the generator output}"
    for s in $(grep -oE '^\[sources\.[a-z_]+\]' "$AIDLINK_SYNTH_DIR/aidlink.toml" | sed 's/\[sources\.//; s/\]//'); do
        run "generator $s" "" source --config "$AIDLINK_SYNTH_DIR/aidlink.toml" --period "$PERIOD" --source "$s"
    done
fi
