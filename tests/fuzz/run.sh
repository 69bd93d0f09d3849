#!/usr/bin/env bash
# Runs every libFuzzer harness built in BUILD_DIR for SECONDS each (`make fuzz`).
# Seeds: tests/fuzz/corpus/<harness>/ (committed, read only here). New inputs go to
# BUILD_DIR/fuzz-corpus/<harness>/, crashes to BUILD_DIR/fuzz-artifacts/<harness>/.
# Exits non-zero when any harness crashed, leaked, timed out or ran out of memory; to keep a crash
# as a regression case, copy the artifact into tests/fuzz/corpus/<harness>/ and fix the bug.
set -uo pipefail
build_dir=${1:?usage: run.sh BUILD_DIR SECONDS HARNESS...}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS HARNESS...}
shift 2
src_dir="$(cd "$(dirname "$0")" && pwd)"
failed=()
for name in "$@"; do
  bin="$build_dir/fuzz_$name"
  [[ -x "$bin" ]] || { echo "fuzz: $bin is missing" >&2; failed+=("$name"); continue; }
  work="$build_dir/fuzz-corpus/$name"
  artifacts="$build_dir/fuzz-artifacts/$name"
  mkdir -p "$work" "$artifacts"
  echo "== fuzz_$name for ${seconds}s (seeds: tests/fuzz/corpus/$name)"
  dict=()
  [[ -f "$src_dir/$name.dict" ]] && dict=(-dict="$src_dir/$name.dict")
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
    "$work" "$src_dir/corpus/$name" >"$build_dir/fuzz-$name.log" 2>&1
  rc=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+.*DONE' "$build_dir/fuzz-$name.log" || true
  if [[ $rc -ne 0 ]]; then
    echo "fuzz_$name FAILED (exit $rc); log: $build_dir/fuzz-$name.log" >&2
    grep -E 'ERROR|SUMMARY|Test unit written' "$build_dir/fuzz-$name.log" | head -20 >&2
    failed+=("$name")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all harnesses ran ${seconds}s without a crash"
