#!/usr/bin/env bash
# Configures and builds lmforge into ./build (Release, Ninja, ccache when present).
# Extra arguments go to CMake, e.g. tools/build.sh -DTorch_DIR=/path/to/libtorch/share/cmake/Torch
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif (($#)); then
  cmake -S . -B build "$@"
fi
cmake --build build -j "$(nproc)"
