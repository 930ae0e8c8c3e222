#!/usr/bin/env bash
# End-to-end benchmark: generate a city, then time `aidlink run` on its first
# month, from raw extracts to published Parquet, and report wall time, peak RSS
# and rows per second, plus accuracy against the generator's truth.
#
#   benches/pipeline.sh [STUDENTS] [WORKDIR]      (default 1000000, target/bench-pipeline)
#   ANALYST=1 benches/pipeline.sh ...             also write the analyst tier
#
# Without ANALYST=1 the generated config has no pseudonym key, so only the
# restricted tier is written (as on a fresh install); with it, a throwaway key
# is made in WORKDIR and the run writes both tiers, as an office would.
#
# Figures vary with the machine's load: compare ratios measured in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
STUDENTS=${1:-1000000}
WORK=${2:-target/bench-pipeline}
cargo build --release --quiet
BIN=target/release/aidlink
CITY="$WORK/city-$STUDENTS"
if [ ! -f "$CITY/aidlink.toml" ]; then
    "$BIN" synth --students "$STUDENTS" --months 2 --seed 1 --out "$CITY" >/dev/null
fi
CONFIG="$CITY/aidlink.toml"
OUT="$WORK/out-$STUDENTS"
if [ "${ANALYST:-0}" = 1 ]; then
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/bench.key")
    CONFIG="$CITY/aidlink-analyst.toml"
    { cat "$CITY/aidlink.toml"; printf '\n[privacy]\nkey_file = "%s"\n' "$(realpath "$WORK/bench.key")"; } > "$CONFIG"
    OUT="$WORK/out-$STUDENTS-analyst"
fi
rm -rf "$OUT"
for period in 2026-01 2026-02; do
    /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$BIN" -q run --config "$CONFIG" --period "$period" --out "$OUT" >"$WORK/run.txt" || true
    read -r secs kb < "$WORK/time.txt"
    rows=$(grep -E '^\s+(disability|enrollment|household|subsidy)\s' "$WORK/run.txt" | awk '{s+=$2} END {print s}')
    printf 'period %s: %s rows in %s s (%.0f rows/s), peak RSS %.2f GiB\n' \
        "$period" "$rows" "$secs" "$(echo "$rows / $secs" | bc -l)" "$(echo "$kb / 1048576" | bc -l)"
    "$BIN" -q evaluate --out "$OUT" --period "$period" --truth "$CITY/truth"
done
