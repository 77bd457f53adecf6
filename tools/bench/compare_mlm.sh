#!/usr/bin/env bash
# Masked-LM (BERT-style) pre-training throughput: lmforge's mlm task, bidirectional transformer and
# mlm head (recipes/bench/mlm_bench.yaml) vs the same encoder and head in Python PyTorch on the
# same LibTorch (tools/bench/mlm_encoder.py), interleaved A B A B so machine drift hits both sides
# equally. Python runs "tuned" (malloc kept from returning memory, passive OpenMP waiting: the
# settings lmforge applies to itself). Tokens/s count every token of every segment on both sides.
#
#   tools/bench/compare_mlm.sh [DATA_DIR] [ROUNDS] [STEPS]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$here/../shared/data}
rounds=${2:-3}
steps=${3:-200}
lmforge=${LMFORGE:-$here/build/bin/lmforge}
# The Python that has torch: the build's LibTorch comes from .venv's wheel when there is one.
python=${PYTHON:-$here/.venv/bin/python}
[[ -x $python ]] || python=/usr/bin/python3
train=$data/wikitext-2/train.txt
[[ -f $train ]] || { echo "skip: $train not found (set DATA_DIR)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
tuned_env=(GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 OMP_WAIT_POLICY=passive)

lm() {
  "$lmforge" run "$here/recipes/bench/mlm_bench.yaml" --data-dir "$data" --out "$out" \
    "stages.mlm.train.max_steps=$steps" >/dev/null
  grep '"train_end"' "$out/bench_mlm/mlm/metrics.jsonl" | tail -1
  rm -rf "$out/bench_mlm"
}
py() { env "$@" "$python" "$here/tools/bench/mlm_encoder.py" --data "$train" --steps "$steps"; }
field() { /usr/bin/python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['$1'], 1))" "$2"; }

ratios=()
printf '%-6s %14s %14s %10s %10s %10s\n' round lmforge_tok/s py_tuned_tok/s lm_MiB pyT_MiB vs_tuned
for r in $(seq 1 "$rounds"); do
  a=$(lm)
  b=$(py "${tuned_env[@]}")
  ta=$(field tokens_per_sec "$a"); tb=$(field tokens_per_sec "$b")
  ratio=$(/usr/bin/python3 -c "print(f'{$ta/$tb:.2f}x')")
  ratios+=("$ta/$tb")
  printf '%-6s %14s %14s %10s %10s %10s\n' "$r" "$ta" "$tb" \
    "$(field peak_rss_mib "$a")" "$(field peak_rss_mib "$b")" "$ratio"
done
/usr/bin/python3 -c "import statistics as s, sys; print(f'median lmforge / python tuned: {s.median(eval(r) for r in sys.argv[1:]):.2f}x')" "${ratios[@]}"
