#!/usr/bin/env bash
# Data parallelism on this machine: `--nproc 2` (one thread each) against one process with all
# cores' threads, same recipe and global batch, interleaved A B A B; with the share of the
# parallel run's step spent communicating (gradient all-reduce and step agreement).
#   tools/bench/compare_nproc.sh [DATA_DIR] [ROUNDS] [STEPS] [RECIPE_STAGE]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$here/../shared/data}
rounds=${2:-2}
steps=${3:-150}
lmforge=${LMFORGE:-$here/build/bin/lmforge}
[[ -f $data/wikitext-2/train.txt ]] || { echo "skip: $data/wikitext-2 not found (set DATA_DIR)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {
  "$lmforge" run "$here/recipes/bench/lstm_lm_bench.yaml" --data-dir "$data" --out "$out/$1" \
    "stages.lm.train.max_steps=$steps" threads=0 --nproc "$1" >/dev/null
  grep '"train_end"' "$out/$1"/*/lm/metrics.jsonl | tail -1
}
field() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1]).get('$1', 0), 2))" "$2"; }
printf '%-6s %16s %16s %8s %14s\n' round 1proc_tok/s 2proc_tok/s ratio comm_share
for r in $(seq 1 "$rounds"); do
  a=$(run 1)
  b=$(run 2)
  ta=$(field tokens_per_sec "$a"); tb=$(field tokens_per_sec "$b")
  share=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(f\"{100*d['communication_seconds']/d['train_seconds']:.1f}%\")" "$b")
  printf '%-6s %16s %16s %8s %14s\n' "$r" "$ta" "$tb" "$(python3 -c "print(f'{$tb/$ta:.2f}x')")" "$share"
done
