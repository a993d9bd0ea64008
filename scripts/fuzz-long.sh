#!/usr/bin/env bash
# The long fuzzing runs (docs/fuzzing.md): every target, round after round,
# each round a fresh process per target with its own seed, until ROUNDS
# rounds are done or the time budget (SECONDS_BUDGET) is spent. One JSON
# line per run goes to $LOG; the summary at the end adds them up per target.
#
#   scripts/fuzz-long.sh                      # build (release), 2 jobs, 10 rounds
#   ROUNDS=40 JOBS=2 scripts/fuzz-long.sh
#   BIN=target/debug/parser-fuzz scripts/fuzz-long.sh   # a binary already built
#
# Exit status: 0 when no run crashed, hung or ran out of memory.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-10}
JOBS=${JOBS:-2}
SECONDS_BUDGET=${SECONDS_BUDGET:-0}        # 0: no time budget
TIME_LIMIT_MS=${TIME_LIMIT_MS:-10000}      # one input longer than this is a hang
RSS_LIMIT_MB=${RSS_LIMIT_MB:-1024}         # a process above this is stopped
OUT=${OUT:-target/fuzz-long}
LOG=${LOG:-$OUT/runs.jsonl}
mkdir -p "$OUT"

if [[ -z "${BIN:-}" ]]; then
    cargo build --release -p parser-fuzz --bin parser-fuzz
    BIN=${CARGO_TARGET_DIR:-target}/release/parser-fuzz
fi

# Inputs per run, so each run takes about a minute on one core.
declare -A PER_RUN=(
    [card]=200000 [kiosk_toml]=80000 [config_bundle]=60000 [intake]=60000
    [console_forms]=200000 [import_csv]=400000 [import_xlsx]=60000 [wire_bodies]=250000
)
SCALE=${SCALE:-1}

started=$(date +%s)
failed=0
run_job() { # job index
    local job=$1 round target seed status
    for ((round = 0; round < ROUNDS; round++)); do
        for target in card kiosk_toml config_bundle intake console_forms import_csv import_xlsx wire_bodies; do
            if ((SECONDS_BUDGET > 0 && $(date +%s) - started > SECONDS_BUDGET)); then
                return 0
            fi
            seed=$((1000 * round + job + 1))
            status=0
            "$BIN" run --target "$target" --seed "$seed" \
                --inputs $((PER_RUN[$target] * SCALE)) \
                --time-limit-ms "$TIME_LIMIT_MS" --rss-limit-mb "$RSS_LIMIT_MB" \
                --artifacts "$OUT/artifacts" >>"$LOG" 2>>"$OUT/stderr.log" || status=$?
            if ((status != 0)); then
                echo "{\"target\":\"$target\",\"seed\":$seed,\"exit\":$status}" >>"$OUT/failures.jsonl"
            fi
        done
    done
}

for ((job = 0; job < JOBS; job++)); do
    run_job "$job" &
done
wait

python3 - "$LOG" <<'PY'
import json, sys
totals = {}
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    t = totals.setdefault(r["target"], {"runs": 0, "inputs": 0, "crashes": 0, "seconds": 0.0, "slowest_ms": 0, "peak_rss_mib": 0})
    t["runs"] += 1
    t["inputs"] += r["inputs"]
    t["crashes"] += r["crashes"]
    t["seconds"] += r["seconds"]
    t["slowest_ms"] = max(t["slowest_ms"], r["slowest_input_ms"])
    t["peak_rss_mib"] = max(t["peak_rss_mib"], r["peak_rss_mib"])
print(f"{'target':<15}{'runs':>6}{'inputs':>12}{'crashes':>9}{'cpu s':>9}{'slowest ms':>12}{'peak RSS MiB':>14}")
for name, t in totals.items():
    print(f"{name:<15}{t['runs']:>6}{t['inputs']:>12}{t['crashes']:>9}{t['seconds']:>9.0f}{t['slowest_ms']:>12}{t['peak_rss_mib']:>14}")
print(f"{'all':<15}{sum(t['runs'] for t in totals.values()):>6}{sum(t['inputs'] for t in totals.values()):>12}{sum(t['crashes'] for t in totals.values()):>9}")
PY
if [[ -s "$OUT/failures.jsonl" ]]; then
    echo "failed runs (crash, hang or memory):"
    cat "$OUT/failures.jsonl"
    exit 1
fi
