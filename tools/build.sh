#!/usr/bin/env bash
# Configures and builds lmforge (Release, Ninja, ccache when present).
#
#   tools/build.sh                    against LibTorch 2.x from ./.venv, into ./build (the default)
#   tools/build.sh --debian-libtorch  against Debian's libtorch-dev 1.13, into ./build-debian
# Further arguments go to CMake, e.g. tools/build.sh -DTorch_DIR=/path/to/libtorch/share/cmake/Torch
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/torch_pin.sh

build_dir=build torch_args=()
if [[ "${1:-}" == "--debian-libtorch" ]]; then
  shift
  build_dir=build-debian
  torch_args=(-DCMAKE_PREFIX_PATH=/usr -DTorch_DIR=/usr/lib/x86_64-linux-gnu/cmake/Torch)
elif [[ " $* " != *" -DTorch_DIR="* && " $* " != *" -DCMAKE_PREFIX_PATH="* ]]; then
  lmforge_torch_ready || { echo "tools/build.sh: no torch $LMFORGE_TORCH_PIN in $LMFORGE_VENV; run tools/setup.sh first" >&2; exit 1; }
  # The prefix, not only Torch_DIR: CMake searches a prefix path before the system's folders, so
  # the wheel's libraries win over a Debian libtorch installed beside them.
  torch_args=(-DCMAKE_PREFIX_PATH="$(lmforge_torch_prefix)")
fi
build_dir="${LMFORGE_BUILD_DIR:-$build_dir}"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "${torch_args[@]}" "$@"
elif (($#)); then
  cmake -S . -B "$build_dir" "$@"
fi
# LMFORGE_BUILD_TARGET builds one target and what it needs instead of everything (tools/test.sh's
# second LibTorch line builds only the core and recipe tests).
target_args=()
[[ -n "${LMFORGE_BUILD_TARGET:-}" ]] && target_args=(--target "$LMFORGE_BUILD_TARGET")
cmake --build "$build_dir" -j "$(nproc)" "${target_args[@]}"
