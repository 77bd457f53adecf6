#!/usr/bin/env bash
# The same lmforge sources built against LibTorch 2.x (build/, the torch wheel) and Debian's 1.13
# (build-debian/), on the LSTM word LM and the baby GPT, interleaved A B A B.
#   tools/bench/compare_torch_lines.sh [DATA_DIR] [ROUNDS] [LSTM_STEPS] [GPT_STEPS]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$here/../shared/data}
rounds=${2:-2}
lstm_steps=${3:-150}
gpt_steps=${4:-200}
new=${LMFORGE:-$here/build/bin/lmforge}
old=${LMFORGE_DEBIAN:-$here/build-debian/bin/lmforge}
for f in "$data/wikitext-2/train.txt" "$data/tinyshakespeare/input.txt"; do
  [[ -f $f ]] || { echo "skip: $f not found (set DATA_DIR)"; exit 0; }
done
[[ -x $new && -x $old ]] || { echo "build both lines first: tools/build.sh && tools/build.sh --debian-libtorch"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# run BINARY RECIPE STAGE STEPS -> the train_end record
# (each run in a folder of its own: both bench recipes name their stage lm)
run() {
  local dir
  dir=$(mktemp -d "$out/run.XXXXXX")
  "$1" run "$here/recipes/bench/$2.yaml" --data-dir "$data" --out "$dir" "stages.$3.train.max_steps=$4" >/dev/null
  grep '"train_end"' "$dir"/*/"$3"/metrics.jsonl | tail -1 | sed 's/^[^{]*//'
}
field() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1])['$1'], 1))" "$2"; }

printf '%-6s %-8s %14s %14s %9s %9s %8s\n' round model 2.x_tok/s 1.13_tok/s 2.x_MiB 1.13_MiB ratio
for r in $(seq 1 "$rounds"); do
  for model in lstm gpt; do
    if [[ $model == lstm ]]; then args=(lstm_lm_bench lm "$lstm_steps"); else args=(gpt_char_bench lm "$gpt_steps"); fi
    a=$(run "$new" "${args[@]}")
    b=$(run "$old" "${args[@]}")
    ta=$(field tokens_per_sec "$a"); tb=$(field tokens_per_sec "$b")
    printf '%-6s %-8s %14s %14s %9s %9s %8s\n' "$r" "$model" "$ta" "$tb" "$(field peak_rss_mib "$a")" \
      "$(field peak_rss_mib "$b")" "$(python3 -c "print(f'{$ta/$tb:.2f}x')")"
  done
done
