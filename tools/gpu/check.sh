#!/usr/bin/env bash
# The whole GPU check in one script, for a machine with an NVIDIA GPU, CUDA and a Python PyTorch
# 2.x (which may be another 2.x than the one tools/setup.sh pins: lmforge is built against the
# machine's own LibTorch). Needs third_party_debs/ from tools/gpu/fetch_debs.sh.
#   tools/gpu/check.sh [OUT_DIR]
# Prints: the [cuda] tests, the baby-GPT benchmark on the GPU (tokens/s and model FLOPs
# utilisation) in fp32 and bf16, and the LSTM LM tokens/s; the same figures go to OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-${OUT:-/tmp/lmforge-gpu}}"
mkdir -p "$out"
sysroot=/tmp/sysroot
mkdir -p "$sysroot"
for deb in third_party_debs/*.deb; do dpkg -x "$deb" "$sysroot"; done
export PATH="$sysroot/usr/bin:$PATH" LD_LIBRARY_PATH="$sysroot/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))' | tee "$out/versions.txt"
torch_prefix=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
time cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DLMFORGE_SDK_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$sysroot/usr" -DCMAKE_CXX_FLAGS="-I$sysroot/usr/include" \
  > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
time cmake --build build-gpu -j "$(nproc)" > "$out/build.log" 2>&1 || { grep -m5 -A5 error "$out/build.log"; exit 1; }
set +e
build-gpu/bin/precision_test '[cuda]' 2>&1 | tee "$out/cuda_tests.txt" | tail -5
# Baby GPT on the GPU: tokens/s and model FLOPs utilisation (6 x parameters + attention per
# token, against the chip's dense peak: H200 bf16 989 TFLOP/s, fp32 67 TFLOP/s).
for batch in 12 512; do
  for precision in fp32 bf16; do
    run="$out/gpt_${batch}_${precision}"
    build-gpu/bin/lmforge run recipes/bench/gpt_gpu_bench.yaml --out "$run" \
      stages.lm.train.batch_size=$batch stages.lm.train.precision=$precision > "$run.log" 2>&1 \
      || { tail -5 "$run.log"; continue; }
    python3 - "$run/bench_gpt_gpu/lm/metrics.jsonl" "$batch" "$precision" <<'PY' | tee -a "$out/bench.txt"
import json, sys
end = [json.loads(l) for l in open(sys.argv[1]) if '"train_end"' in l][-1]
layers, width, block, vocab = 4, 128, 64, 60
params = layers * 12 * width * width + vocab * width + block * width
flops_per_token = 6 * params + 12 * layers * block * width
peak = {"bf16": 989e12, "fp32": 67e12}[sys.argv[3]]
tps = end["tokens_per_sec"]
print(f"baby GPT batch {sys.argv[2]:>4} {sys.argv[3]}: {tps:,.0f} tokens/s, MFU {100 * tps * flops_per_token / peak:.2f}%")
PY
  done
done
# LSTM word LM shape (embedding = hidden = 200, 2 layers) on generated text, fp32 and bf16.
for precision in fp32 bf16; do
  build-gpu/bin/lmforge run recipes/quickstart.yaml --out "$out/lstm_$precision" device=cuda \
    stages.pretrain.train.precision=$precision stages.pretrain.backbone.embedding_dim=200 \
    stages.pretrain.backbone.hidden_size=200 --stages pretrain > "$out/lstm_$precision.log" 2>&1 \
    && grep -h "tokens/s" "$out/lstm_$precision.log" | tail -1 | sed "s/^/LSTM $precision: /" | tee -a "$out/bench.txt"
done
