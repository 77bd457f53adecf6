#!/usr/bin/env bash
# A Hugging Face GPT-2 imported with `lmforge import hf-gpt2`: a random GPT-2 and its byte-level
# BPE tokenizer are made locally with transformers (tests/interop/hf_gpt2_reference.py), imported,
# and lmforge must (1) tokenize English, Korean and emoji text to the same ids as transformers'
# tokenizer, (2) give the same logits as transformers to 1e-4, (3) generate from it.
#   tests/interop/hf_gpt2_import.sh WORK_DIR    (LMFORGE_CLI: the lmforge binary)
# Exit 77 (ctest: skipped) without a Python that has transformers and tokenizers.
set -euo pipefail
work="${1:?usage: hf_gpt2_import.sh WORK_DIR}"
cli="${LMFORGE_CLI:?LMFORGE_CLI must name the lmforge binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
reference="$root/tests/interop/hf_gpt2_reference.py"
python=""
for candidate in "$root/.venv/bin/python" python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c "import transformers, tokenizers" 2>/dev/null; then
    python="$candidate"
    break
  fi
done
[[ -n $python ]] || { echo "SKIP: no Python with transformers and tokenizers (pip install transformers)"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
"$python" "$reference" make "$work/gpt2" > "$work/make.log" 2>&1 || { cat "$work/make.log"; exit 1; }
"$cli" import hf-gpt2 "$work/gpt2" --output "$work/runs/gpt2" --name gpt2
status=0
for text in "First Citizen: Before we proceed, hear me." "이 영화 정말 재미있다!" "it's 12,345 -- naïve 😀  two  spaces"; do
  want=$("$python" "$reference" ids "$work/gpt2" "$text")
  got=$("$cli" tokenize "$work/runs/gpt2/gpt2" --text "$text" | sed -n 's/^ids: *//p')
  if [[ "$got" == "$want" ]]; then echo "tokens equal: $text"
  else echo "FAIL: tokens of '$text': lmforge [$got], transformers [$want]"; status=1; fi
done
"$cli" export "$work/runs/gpt2/gpt2" --output "$work/export/model.safetensors" --check-tokens 20 > /dev/null
"$python" "$reference" check "$work/gpt2" "$work/export/check.safetensors" || status=1
"$cli" generate "$work/runs/gpt2" --prompt "First Citizen:" --max-tokens 8 --temperature 0 ||
  { echo "FAIL: generate"; status=1; }
# The recipe form: `init: {from: .../model.safetensors, format: hf-gpt2}` imports the model as a
# stage beside the one that takes its parts. With a negligible learning rate the fine-tuned stage
# still gives transformers' logits (so every tensor came through the recipe's init), and with a
# real one the loss falls: the imported body fine-tunes like any lmforge body.
recipe() {  # NAME OPTIMIZER
  cat > "$work/$1.yaml" <<YAML
name: $1
stages:
  - name: tune
    init: {from: $work/gpt2/model.safetensors, format: hf-gpt2, parts: [tokenizer, backbone, head]}
    task: {type: language_modeling, train: $work/gpt2/corpus.txt, valid: $work/gpt2/corpus.txt, bptt: 16}
    train: {epochs: 1, max_steps: 12, batch_size: 4, log_every: 1, optimizer: $2}
YAML
}
recipe frozen "{type: sgd, lr: 1e-12}"
"$cli" run "$work/frozen.yaml" --out "$work/runs" > "$work/frozen.log" || { cat "$work/frozen.log"; exit 1; }
grep -q "tune: imported .*model.safetensors (hf-gpt2)" "$work/frozen.log" || { echo "FAIL: no import line"; status=1; }
"$cli" export "$work/runs/frozen/tune" --output "$work/export_tuned/model.safetensors" --check-tokens 20 > /dev/null
"$python" "$reference" check "$work/gpt2" "$work/export_tuned/check.safetensors" || status=1
recipe tuned "{type: adamw, lr: 3e-3}"
"$cli" run "$work/tuned.yaml" --out "$work/runs" > "$work/tuned.log" || { cat "$work/tuned.log"; exit 1; }
"$python" - "$work/runs/tuned/tune/metrics.jsonl" <<'PY' || status=1
import json, sys
losses = [r["loss"] for r in map(json.loads, open(sys.argv[1])) if r.get("split") == "train"]
print(f"fine-tuning the imported GPT-2: train loss {losses[0]:.3f} -> {losses[-1]:.3f} over {len(losses)} steps")
sys.exit(0 if losses[-1] < losses[0] - 0.2 else 1)
PY
# A wrong importer name is refused at validation with the known ones.
sed 's/format: hf-gpt2/format: hf-gtp2/' "$work/frozen.yaml" > "$work/typo.yaml"
if "$cli" validate "$work/typo.yaml" 2> "$work/typo.err"; then echo "FAIL: format hf-gtp2 accepted"; status=1; fi
grep -q "hf-gpt2" "$work/typo.err" || { cat "$work/typo.err"; status=1; }
# A folder that is not a GPT-2 is one line naming the missing file.
if "$cli" import hf-gpt2 "$work" --output "$work/runs/bad" 2> "$work/err.txt"; then
  echo "FAIL: a folder without config.json was imported"; status=1
fi
grep -q "config.json: is missing" "$work/err.txt" || { cat "$work/err.txt"; status=1; }
exit $status
