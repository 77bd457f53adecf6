#!/usr/bin/env bash
# One command from a fresh Debian machine to a trained model: installs what lmforge needs (LibTorch
# 2.x from the pinned torch wheel into ./.venv), builds it, runs the quickstart recipe (pre-train →
# fine-tune → evaluate → generate) and samples text.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
build/bin/lmforge run recipes/quickstart.yaml
build/bin/lmforge generate runs/quickstart/pretrain --prompt "the film" --max-tokens 20 --temperature 0.8
