#!/usr/bin/env bash
# Character-level GPT throughput: lmforge's transformer backbone vs the same model in Python
# PyTorch (same LibTorch), interleaved A B A B so machine drift hits both sides equally. Python runs
# "tuned" (malloc kept from returning memory, passive OpenMP waiting: the settings lmforge applies
# to itself) every round, and with default settings in the first round only (a quarter of the
# steps: busy-waiting OpenMP makes it many times slower on a shared machine), for reference.
#
#   [WAIT=active] [PY_THREADS=N] [PYTHON=...] tools/bench/compare_gpt.sh [DATA_DIR] [ROUNDS] [STEPS]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$here/../shared/data}
rounds=${2:-3}
steps=${3:-200}
lmforge=${LMFORGE:-$here/build/bin/lmforge}
train=$data/tinyshakespeare/input.txt
[[ -f $train ]] || { echo "skip: $train not found (set DATA_DIR)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# WAIT=active runs both sides with busy-waiting OpenMP (faster on an idle, dedicated machine).
wait_policy=${WAIT:-passive}
tuned_env=(GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 OMP_WAIT_POLICY=$wait_policy)

lm() {
  OMP_WAIT_POLICY=$wait_policy "$lmforge" run "$here/recipes/bench/gpt_char_bench.yaml" --data-dir "$data" --out "$out" \
    "stages.lm.train.max_steps=$steps" >/dev/null
  grep '"train_end"' "$out/bench_gpt_char/lm/metrics.jsonl" | tail -1
}
# The peer must run on the same LibTorch as lmforge: the .venv's torch wheel for the default build
# (PYTHON overrides, e.g. /usr/bin/python3 for Debian's 1.13 line); PY_THREADS its intra-op threads.
python=${PYTHON:-$here/.venv/bin/python}
"$python" -c "import torch" 2>/dev/null || python=/usr/bin/python3
py_threads=${PY_THREADS:-2}
py() { env "$@" "$python" "$here/tools/bench/gpt_char.py" --data "$train" --steps "$steps" --threads "$py_threads"; }
field() { /usr/bin/python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['$1'], 1))" "$2"; }

ratios=()
printf '%-6s %14s %14s %16s %10s %10s %10s\n' round lmforge_tok/s py_tuned_tok/s py_default_tok/s lm_MiB pyT_MiB vs_tuned
for r in $(seq 1 "$rounds"); do
  a=$(lm)
  b=$(py "${tuned_env[@]}")
  tc=-
  if [[ $r == 1 ]]; then
    tc=$(field tokens_per_sec "$("$python" "$here/tools/bench/gpt_char.py" --data "$train" \
      --steps $((steps / 4 > 10 ? steps / 4 : 10)))")
  fi
  ta=$(field tokens_per_sec "$a"); tb=$(field tokens_per_sec "$b")
  ratio=$(/usr/bin/python3 -c "print(f'{$ta/$tb:.2f}x')")
  ratios+=("$ta/$tb")
  printf '%-6s %14s %14s %16s %10s %10s %10s\n' "$r" "$ta" "$tb" "$tc" \
    "$(field peak_rss_mib "$a")" "$(field peak_rss_mib "$b")" "$ratio"
done
/usr/bin/python3 -c "import statistics as s, sys; print(f'median lmforge / python tuned: {s.median(eval(r) for r in sys.argv[1:]):.2f}x')" "${ratios[@]}"
