#!/usr/bin/env bash
# The GPU checks and GPU benchmarks in one budgeted run, for the first session lent a GPU machine:
#   bash bench/gpu.sh [OUT_DIR]                  # on the GPU machine (see ../shared/gpu/README.md to install)
#   OPENRS_BENCH_CPU=1 bash bench/gpu.sh /tmp/o  # the rehearsal here: tiny shapes, GPU tests skip
# Each step has its own time limit and its log in OUT_DIR; a step that fails or times out does not stop the
# others. Put the figures it prints into README.md (Performance: the rows waiting for a GPU).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-${OUT:-/tmp/openrs-gpu}}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [ "${OPENRS_BENCH_CPU:-0}" = 1 ]; then
  SHAPE=tiny; PROMPTS=8; SHORT=16; LONG=32; BUDGET=5; TOKENS=16; STEPS=1
else
  SHAPE=r1-1.5b; PROMPTS=256; SHORT=1024; LONG=4096; BUDGET=40; TOKENS=256; STEPS=2
fi

step() {  # step NAME SECONDS COMMAND...: run with a limit, log to OUT/NAME.log, report its exit status
  local name=$1 limit=$2; shift 2
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  echo "== $name: exit $rc after $((SECONDS - start)) s (limit $limit s; log $OUT/$name.log)"
  tail -n 12 "$OUT/$name.log"
}

step doctor 60 python -m openrs_cli doctor --offline
step gpu-tests 240 python -m pytest -q -p no:cacheprovider -m gpu tests/gpu
step eval-batching-short 150 python bench/eval_batching.py --shape "$SHAPE" --prompts "$PROMPTS" \
  --new-tokens "$SHORT" --budget-s "$BUDGET"
# one at a time at the long length would spend minutes on a single answer: its tokens/s is the short run's
step eval-batching-long 210 python bench/eval_batching.py --shape "$SHAPE" --prompts "$PROMPTS" \
  --new-tokens "$LONG" --budget-s "$BUDGET" --modes padded,continuous
step train-step 240 python bench/train_step.py --shape "$SHAPE" --completion-tokens "$TOKENS" --steps "$STEPS" \
  --generation transformers --batching both
