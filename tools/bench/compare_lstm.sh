#!/usr/bin/env bash
# LSTM language-model throughput: lmforge vs the same model in Python PyTorch (same LibTorch),
# interleaved A B A B so machine drift hits both sides equally. Python runs twice per round: with
# default settings, and "tuned" (malloc kept from returning memory, passive OpenMP waiting), the
# settings lmforge applies to itself.
#
#   tools/bench/compare_lstm.sh [DATA_DIR] [ROUNDS] [STEPS]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$here/../shared/data}
rounds=${2:-3}
steps=${3:-300}
lmforge=${LMFORGE:-$here/build/bin/lmforge}
train=$data/wikitext-2/train.txt
[[ -f $train ]] || { echo "skip: $train not found (set DATA_DIR)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
tuned_env=(GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 OMP_WAIT_POLICY=passive)

lm() {
  "$lmforge" run "$here/recipes/bench/lstm_lm_bench.yaml" --data-dir "$data" --out "$out" \
    "stages.lm.train.max_steps=$steps" >/dev/null
  grep '"train_end"' "$out/bench_lstm_lm/lm/metrics.jsonl" | tail -1
}
py() { env "$@" /usr/bin/python3 "$here/tools/bench/lstm_lm.py" --data "$train" --steps "$steps"; }
field() { /usr/bin/python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['$1'], 1))" "$2"; }

printf '%-6s %14s %14s %14s %10s %10s %10s\n' round lmforge_tok/s py_tuned_tok/s py_default_tok/s lm_MiB pyT_MiB vs_tuned
for r in $(seq 1 "$rounds"); do
  a=$(lm)
  b=$(py "${tuned_env[@]}")
  c=$(env PYTHONHASHSEED=0 /usr/bin/python3 "$here/tools/bench/lstm_lm.py" --data "$train" --steps $((steps / 4)))  # default settings are ~5x slower
  ta=$(field tokens_per_sec "$a"); tb=$(field tokens_per_sec "$b"); tc=$(field tokens_per_sec "$c")
  ratio=$(/usr/bin/python3 -c "print(f'{$ta/$tb:.2f}x')")
  printf '%-6s %14s %14s %14s %10s %10s %10s\n' "$r" "$ta" "$tb" "$tc" \
    "$(field peak_rss_mib "$a")" "$(field peak_rss_mib "$b")" "$ratio"
done
