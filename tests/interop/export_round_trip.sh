#!/usr/bin/env bash
# `lmforge export` read back by plain PyTorch: trains four tiny stages (a GPT-style causal
# transformer LM, one with rotary positions, SwiGLU, QK-norm and no biases, a post-norm
# bidirectional transformer classifier without biases, an untied LSTM LM), exports each with its check logits, and rebuilds each in PyTorch with
# tools/interop/lmforge_torch.py, which must give the same logits to 1e-5.
#   tests/interop/export_round_trip.sh WORK_DIR    (LMFORGE_CLI: the lmforge binary)
# Exit 77 (ctest: skipped) when no Python with torch is found (.venv's, then python3's).
set -euo pipefail
work="${1:?usage: export_round_trip.sh WORK_DIR}"
cli="${LMFORGE_CLI:?LMFORGE_CLI must name the lmforge binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
python=""
for candidate in "$root/.venv/bin/python" python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c "import torch" 2>/dev/null; then
    python="$candidate"
    break
  fi
done
[[ -n $python ]] || { echo "SKIP: no Python with torch (tools/setup.sh puts one in .venv)"; exit 77; }
rm -rf "$work" && mkdir -p "$work"

words=(the a film movie plot was is good bad great dull fine long short story cast)
for i in $(seq 1 300); do
  line=""
  for j in 1 2 3 4 5 6; do line+="${words[$(((i * 7 + j * 13 + i * j) % ${#words[@]}))]} "; done
  echo "$line" >> "$work/text.txt"
  if ((i % 2)); then echo -e "positive\t${line}good" >> "$work/labelled.tsv"
  else echo -e "negative\t${line}bad" >> "$work/labelled.tsv"; fi
done

cat > "$work/recipe.yaml" <<YAML
name: interop
seed: 3
threads: 1
stages:
  - name: gpt
    task: {type: language_modeling, train: $work/text.txt, valid_fraction: 0.1, bptt: 16}
    tokenizer: {type: word}
    backbone: {type: transformer, layers: 2, heads: 2, width: 32, max_positions: 16, dropout: 0}
    head: {type: lm, tie_weights: true}
    train: {epochs: 1, batch_size: 8, optimizer: {type: adamw, lr: 3e-3}}
  - name: modern
    init: {from: gpt, parts: [tokenizer]}
    task: {type: language_modeling, train: $work/text.txt, valid_fraction: 0.1, bptt: 16}
    backbone: {type: transformer, layers: 2, heads: 2, width: 32, max_positions: 16, dropout: 0,
               positions: rotary, activation: swiglu, qk_norm: true, bias: false}
    head: {type: lm, tie_weights: true}
    train: {epochs: 1, batch_size: 8, optimizer: {type: adamw, lr: 3e-3}}
  - name: encoder
    init: {from: gpt, parts: [tokenizer]}
    task: {type: classification, format: tsv, train: $work/labelled.tsv, valid_fraction: 0.1}
    backbone: {type: transformer, mode: bidirectional, norm: post, positions: sinusoidal,
               bias: false, layers: 2, heads: 4, width: 32, max_positions: 32, dropout: 0.1}
    head: {type: classifier, pooling: concat, hidden_size: 8}
    train: {epochs: 1, batch_size: 8, optimizer: {type: adamw, lr: 3e-3}}
  - name: lstm
    init: {from: gpt, parts: [tokenizer]}
    task: {type: language_modeling, train: $work/text.txt, valid_fraction: 0.1, bptt: 16}
    backbone: {type: lstm, embedding_dim: 16, hidden_size: 24, layers: 2, tie_output: false}
    head: {type: lm, tie_weights: false}
    train: {epochs: 1, batch_size: 8, optimizer: {type: adamw, lr: 3e-3}}
YAML
"$cli" run "$work/recipe.yaml" --out "$work/runs" > "$work/run.log" 2>&1 ||
  { tail -20 "$work/run.log"; echo "FAIL: training"; exit 1; }
status=0
for stage in gpt modern encoder lstm; do
  "$cli" export "$work/runs/interop/$stage" --output "$work/export/$stage/model.safetensors" \
    --check-tokens 12 > "$work/export-$stage.log" 2>&1 ||
    { cat "$work/export-$stage.log"; echo "FAIL: export $stage"; status=1; continue; }
  "$python" "$root/tools/interop/lmforge_torch.py" check "$work/export/$stage" || status=1
done
# A bad format and a missing output are refused with the option named.
if "$cli" export "$work/runs/interop/gpt" --format onnx --output "$work/x" 2> "$work/err.txt"; then
  echo "FAIL: --format onnx was accepted"; status=1
fi
grep -q -- "--format: unknown format 'onnx'" "$work/err.txt" || { cat "$work/err.txt"; status=1; }
exit $status
