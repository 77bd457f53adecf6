#!/usr/bin/env bash
# Baby GPT against Hugging Face transformers' GPT2LMHeadModel (random init, same sizes; installed
# in .venv by tools/setup.sh --tests), interleaved A B A B so machine drift hits both sides:
#   training tokens/s: recipes/bench/gpt_char_bench.yaml for STEPS steps vs tools/bench/hf_gpt.py;
#   generation tokens/s, greedy with the key/value cache, NEW (256) tokens after a one-character
#   prompt: lmforge generate (batch 1: the CLI decodes one prompt) timed as the difference
#   between NEW tokens and 1 token, so process start and loading cancel out, vs model.generate
#   at batch 1 and 8. Both generation models hold NEW + 1 positions, so neither slides a window.
#
#   tools/bench/compare_hf.sh [DATA_DIR] [ROUNDS] [STEPS] [NEW]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$here/../shared/data}
rounds=${2:-3}
steps=${3:-200}
new=${4:-256}
lmforge=${LMFORGE:-$here/build/bin/lmforge}
python=${PYTHON:-$here/.venv/bin/python}
train=$data/tinyshakespeare/input.txt
[[ -f $train ]] || { echo "skip: $train not found (pass DATA_DIR)"; exit 0; }
"$python" -c "import transformers" 2>/dev/null ||
  { echo "skip: no transformers in $python (tools/setup.sh --tests installs it)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
field() { "$python" -c "import json,sys; print(round(json.loads(sys.argv[1])['$1'], 1))" "$2"; }
ratio() { "$python" -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "$1" "$2"; }

lm_train() {
  "$lmforge" run "$here/recipes/bench/gpt_char_bench.yaml" --data-dir "$data" --out "$out/train" \
    "stages.lm.train.max_steps=$steps" >/dev/null
  field tokens_per_sec "$(grep '"train_end"' "$out/train/bench_gpt_char/lm/metrics.jsonl" | tail -1)"
}
hf() { "$python" "$here/tools/bench/hf_gpt.py" "$@" --data "$train" 2>/dev/null; }

# A generation model for lmforge: the bench recipe trained for one step with room for the prompt
# and the new tokens (random-like weights, as on the Hugging Face side).
"$lmforge" run "$here/recipes/bench/gpt_char_bench.yaml" --data-dir "$data" --out "$out/gen" \
  stages.lm.train.max_steps=1 "stages.lm.backbone.max_positions=$((new + 1))" >/dev/null
lm_generate() {
  local start mid end
  start=$(date +%s.%N)
  "$lmforge" generate "$out/gen/bench_gpt_char" --prompt F --max-tokens 1 --temperature 0 >/dev/null
  mid=$(date +%s.%N)
  "$lmforge" generate "$out/gen/bench_gpt_char" --prompt F --max-tokens "$new" --temperature 0 >/dev/null
  end=$(date +%s.%N)
  "$python" -c "import sys; a, b, c = map(float, sys.argv[1:]); print(round(($new - 1) / max((c - b) - (b - a), 1e-9), 1))" \
    "$start" "$mid" "$end"
}

printf '%-6s %12s %12s %8s | %12s %12s %8s %12s\n' round lm_train hf_train ratio lm_gen_b1 hf_gen_b1 ratio hf_gen_b8
for r in $(seq 1 "$rounds"); do
  a=$(lm_train)
  b=$(field tokens_per_sec "$(hf train --steps "$steps")")
  c=$(lm_generate)
  d=$(field tokens_per_sec "$(hf generate --batch 1 --new-tokens "$new")")
  e=$(field tokens_per_sec "$(hf generate --batch 8 --new-tokens "$new")")
  printf '%-6s %12s %12s %8s | %12s %12s %8s %12s\n' "$r" "$a" "$b" "$(ratio "$a" "$b")" "$c" "$d" \
    "$(ratio "$c" "$d")" "$e"
done
echo "tokens/s; generation: new tokens/s, greedy, key/value cache; lmforge's CLI decodes batch 1 only"
