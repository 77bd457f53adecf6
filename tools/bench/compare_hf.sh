#!/usr/bin/env bash
# lmforge against Hugging Face transformers (random init, same sizes; installed in .venv by
# tools/setup.sh --tests), interleaved A B A B so machine drift hits both sides:
#   GPT training tokens/s: recipes/bench/gpt_char_bench.yaml vs GPT2LMHeadModel
#     (tools/bench/hf_gpt.py), STEPS steps after WARMUP (10) warm-up steps on both sides;
#   generation tokens/s, greedy with the key/value cache, NEW (256) tokens after a one-character
#     prompt, at batch 1 and 8: `lmforge generate --num-samples B` timed as the difference between
#     NEW tokens and 1 token, so process start, loading and the prompt cancel out, vs
#     model.generate (its own warm-up excluded). Both generation models hold NEW + 1 positions, so
#     neither slides a window;
#   BERT training tokens/s: recipes/bench/mlm_bench.yaml vs BertForMaskedLM
#     (tools/bench/hf_bert.py) with lmforge's vocabulary size, STEPS after WARMUP on both sides.
# lmforge's warm-up is left out from its metrics log: a train record every WARMUP steps gives the
# time at step WARMUP, subtracted from train_end's.
# Python runs with passive OpenMP waiting and malloc kept from returning memory (the settings
# lmforge applies to itself; tools/bench/compare_gpt.sh) and PY_THREADS (2) intra-op threads.
#
#   [PY_THREADS=N] [WARMUP=N] tools/bench/compare_hf.sh [DATA_DIR] [ROUNDS] [STEPS] [NEW]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$here/../shared/data}
rounds=${2:-3}
steps=${3:-200}
new=${4:-256}
warmup=${WARMUP:-10}
py_threads=${PY_THREADS:-2}
lmforge=${LMFORGE:-$here/build/bin/lmforge}
python=${PYTHON:-$here/.venv/bin/python}
shakespeare=$data/tinyshakespeare/input.txt
wikitext=$data/wikitext-2/train.txt
for f in "$shakespeare" "$wikitext"; do
  [[ -f $f ]] || { echo "skip: $f not found (pass DATA_DIR)"; exit 0; }
done
"$python" -c "import transformers" 2>/dev/null ||
  { echo "skip: no transformers in $python (tools/setup.sh --tests installs it)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
tuned_env=(GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184 OMP_WAIT_POLICY=passive)
field() { "$python" -c "import json,sys; print(round(json.loads(sys.argv[1])['$1'], 1))" "$2"; }
ratio() { "$python" -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}x' if sys.argv[1] != 'noise' else '-')" "$1" "$2"; }

# Tokens/s after the warm-up steps, from a metrics log with a train record at step WARMUP: every
# step trains as many tokens (full windows or segments), so the tokens up to it are
# train_tokens * WARMUP / steps, and its cumulative tokens/s gives its time.
after_warmup() {
  "$python" - "$1" "$warmup" <<'PY'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
warmup = int(sys.argv[2])
end = [r for r in records if r.get("event") == "train_end"][-1]
at = [r for r in records if r.get("split") == "train" and r.get("step") == warmup][-1]
tokens_before = end["train_tokens"] * warmup / end["steps"]
seconds_before = tokens_before / at["tokens_per_sec"]
print(round((end["train_tokens"] - tokens_before) / (end["train_seconds"] - seconds_before), 1))
PY
}
# lm_train RECIPE STAGE_PATH: lmforge tokens/s over STEPS steps after WARMUP.
lm_train() {
  local stage=${2#*/}
  rm -rf "$out/train"
  "$lmforge" run "$here/recipes/bench/$1" --data-dir "$data" --out "$out/train" \
    "stages.$stage.train.max_steps=$((warmup + steps))" "stages.$stage.train.log_every=$warmup" >/dev/null
  after_warmup "$out/train/$2/metrics.jsonl"
}
py() { env "${tuned_env[@]}" "$python" "$here/tools/bench/$1" "${@:2}" --threads "$py_threads" 2>/dev/null; }
hf_gpt() { py hf_gpt.py "$@" --data "$shakespeare" --warmup "$warmup"; }

# A generation model for lmforge: the bench recipe trained for one step with room for the prompt
# and the new tokens (random-like weights, as on the Hugging Face side); at least the 64 positions
# of its training windows, so a short NEW still trains.
"$lmforge" run "$here/recipes/bench/gpt_char_bench.yaml" --data-dir "$data" --out "$out/gen" \
  stages.lm.train.max_steps=1 "stages.lm.backbone.max_positions=$((new + 1 > 64 ? new + 1 : 64))" >/dev/null
# lm_generate BATCH: new tokens/s of BATCH rows, (NEW - 1) tokens per row over the time of NEW
# tokens minus the time of one.
lm_generate() {
  local start mid end
  start=$(date +%s.%N)
  "$lmforge" generate "$out/gen/bench_gpt_char" --prompt F --max-tokens 1 --temperature 0 \
    --num-samples "$1" >/dev/null
  mid=$(date +%s.%N)
  "$lmforge" generate "$out/gen/bench_gpt_char" --prompt F --max-tokens "$new" --temperature 0 \
    --num-samples "$1" >/dev/null
  end=$(date +%s.%N)
  # A difference lost in the machine's noise (NEW too small, load) prints as "noise", not a rate.
  "$python" -c "import sys; a, b, c = map(float, sys.argv[1:]); d = (c - b) - (b - a); print(round($1 * ($new - 1) / d, 1) if d > 0 else 'noise')" \
    "$start" "$mid" "$end"
}
# The BERT peer gets lmforge's vocabulary size (<mask> included), from a one-step run.
"$lmforge" run "$here/recipes/bench/mlm_bench.yaml" --data-dir "$data" --out "$out/vocab" \
  stages.mlm.train.max_steps=1 >/dev/null
vocab=$(wc -l <"$out/vocab/bench_mlm/mlm/vocab.txt")

row() { printf '%-6s %-14s %12s %12s %8s\n' "$@"; }
row round measure lmforge hf ratio
for r in $(seq 1 "$rounds"); do
  a=$(lm_train gpt_char_bench.yaml bench_gpt_char/lm)
  b=$(field tokens_per_sec "$(hf_gpt train --steps "$steps")")
  row "$r" gpt_train "$a" "$b" "$(ratio "$a" "$b")"
  for batch in 1 8; do
    a=$(lm_generate "$batch")
    b=$(field tokens_per_sec "$(hf_gpt generate --batch "$batch" --new-tokens "$new")")
    row "$r" "gpt_gen_b$batch" "$a" "$b" "$(ratio "$a" "$b")"
  done
  a=$(lm_train mlm_bench.yaml bench_mlm/mlm)
  b=$(field tokens_per_sec "$(py hf_bert.py --data "$wikitext" --steps "$steps" --warmup "$warmup" --vocab "$vocab")")
  row "$r" bert_train "$a" "$b" "$(ratio "$a" "$b")"
done
echo "tokens/s (training: every token of every window or segment; generation: new tokens, greedy,"
echo "key/value cache, summed over the batch's rows); Python: $py_threads intra-op threads, passive OpenMP waiting"
