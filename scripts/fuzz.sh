#!/usr/bin/env bash
# Builds the fuzz targets in fuzz/ and runs each for SECONDS (default 30), one after the other,
# with libFuzzer (`cargo +nightly fuzz`). Prints per target the executions, the corpus size and
# the outcome; exits non-zero if any target found a crash, a hang, an out-of-memory or a too
# large allocation (the input is then under fuzz/artifacts/TARGET/).
#
#   scripts/fuzz.sh          # 30 seconds each, as CI runs it
#   scripts/fuzz.sh 600      # 10 minutes each, as recorded in docs/reliability.md
#   scripts/fuzz.sh 60 idx   # only the named targets
#
# Each target grows its corpus in fuzz/corpus/TARGET/ (not committed) from the seeds committed in
# fuzz/seeds/TARGET/. Without the nightly toolchain and cargo-fuzz it says so and skips.
set -euo pipefail

seconds="${1:-30}"
shift || true
cd "$(dirname "$0")/.."

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: skipped: needs the nightly toolchain and cargo-fuzz" \
        "(rustup toolchain install nightly && cargo install cargo-fuzz)"
    exit 0
fi

# Per target: the longest input, the largest single allocation (MB) and the slowest input (s).
# The allocation limits are the most the parsers may take for inputs of that length: IDX and CSV
# data and model files are bounded by their size (a gzip stream by deflate's 1032:1 at most);
# images by the decoder's limits (`preprocess::MAX_ALLOC`, 256 MiB) plus their conversions.
limits() {
    case "$1" in
        idx | csv) echo "8192 64 10" ;;
        model_file) echo "16384 64 10" ;;
        image | api_request) echo "8192 1024 20" ;;
        spec_parsers) echo "256 64 10" ;;
        *) echo "4096 256 10" ;;
    esac
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Built once, then the binaries are run directly, so that every target runs the same build even
# if the sources change meanwhile. FUZZ_NO_BUILD=1 runs what was built before.
mkdir -p fuzz/artifacts
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    echo "fuzz: building the targets"
    if ! cargo +nightly fuzz build >fuzz/artifacts/build.log 2>&1; then
        tail -40 fuzz/artifacts/build.log
        echo "fuzz: the targets do not build" >&2
        exit 1
    fi
fi
bin="fuzz/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"

failed=()
summary=()
for target in "${targets[@]}"; do
    read -r max_len malloc_mb timeout <<<"$(limits "$target")"
    corpus="fuzz/corpus/$target"
    mkdir -p "$corpus" "fuzz/artifacts/$target"
    log="fuzz/artifacts/$target/last-run.log"
    echo "fuzz: $target for ${seconds}s (max_len $max_len, malloc limit ${malloc_mb} MB)"
    status=0
    start=$(date +%s)
    "$bin/$target" "$corpus" "fuzz/seeds/$target" -artifact_prefix="fuzz/artifacts/$target/" \
        -max_total_time="$seconds" -print_final_stats=1 -max_len="$max_len" \
        -rss_limit_mb=2048 -malloc_limit_mb="$malloc_mb" -timeout="$timeout" \
        >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))
    final_stat() { grep -o "stat::$1: *[0-9]*" "$log" | grep -o '[0-9]*$' | tail -1; }
    executions=$(final_stat number_of_executed_units)
    peak_rss=$(final_stat peak_rss_mb)
    files=$(find "$corpus" -type f | wc -l)
    if [ "$status" -eq 0 ]; then
        outcome="no finding"
    else
        outcome="FINDING (exit $status), see $log and fuzz/artifacts/$target/"
        failed+=("$target")
        grep -E '^==[0-9]+==|^SUMMARY|panicked at|^artifact_prefix|Test unit written' "$log" | head -20 || true
    fi
    line="$target: ${executions:-?} executions in ${elapsed}s (corpus loading included), corpus $files files, peak RSS ${peak_rss:-?} MB: $outcome"
    echo "fuzz: $line"
    summary+=("$line")
done

echo
printf 'fuzz: %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: findings in: ${failed[*]}" >&2
    exit 1
fi
