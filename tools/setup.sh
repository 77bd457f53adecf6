#!/usr/bin/env bash
# Installs everything lmforge needs to build, test and benchmark, from Debian's packages only.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread
  libyaml-cpp-dev libboost-dev libboost-program-options-dev libboost-filesystem-dev
  catch2
)
# Benchmarks compare against Python PyTorch on the same LibTorch and against gensim/fastText.
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3-torch python3-gensim fasttext python3-numpy)
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "lmforge setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
