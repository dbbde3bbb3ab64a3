#!/usr/bin/env bash
# Runs the benchmarks once (9 randomly interleaved repetitions each; the
# report takes the fastest) and writes
# bench/report.json, bench/report.md and bench/sendv_latency.svg.
set -euo pipefail
cd "$(dirname "$0")/.."

out="$(mktemp -d)"
bazel build --config=opt //bench:argo_benchmark
bazel run --config=opt //bench:argo_benchmark -- \
  --benchmark_min_time=0.15 --benchmark_repetitions=9 \
  --benchmark_display_aggregates_only=true \
  --benchmark_enable_random_interleaving=true \
  --benchmark_format=console --benchmark_out_format=json \
  --benchmark_out="${out}/argo.json"
python3 tools/bench_report.py bench "./argo bench" "${out}/argo.json"
echo "report: bench/report.md"
