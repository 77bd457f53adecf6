#!/usr/bin/env bash
# One command from a fresh Debian machine to a passing test suite, on both LibTorch lines:
# installs, builds against LibTorch 2.x (the torch wheel, the default) and runs every test; then
# builds against Debian's LibTorch 1.13 and runs the suite again without the SDK-install tests
# (which only repeat the first build's packaging). Tests that need ../shared/data skip themselves
# with a message when it is absent.
#   tools/test.sh            both lines
#   tools/test.sh --default  LibTorch 2.x only
set -euo pipefail
cd "$(dirname "$0")/.."
lines=(default debian)
[[ "${1:-}" == "--default" ]] && lines=(default)
if [[ " ${lines[*]} " == *" debian "* ]]; then tools/setup.sh --debian-libtorch; else tools/setup.sh; fi
jobs="$(nproc)"
for line in "${lines[@]}"; do
  if [[ $line == default ]]; then
    echo "== LibTorch 2.x (torch wheel): build and full test suite"
    tools/build.sh
    ctest --test-dir build --output-on-failure -j "$jobs" --timeout 900
  else
    echo "== LibTorch 1.13 (Debian libtorch-dev): build and test suite without the SDK tests"
    tools/build.sh --debian-libtorch -DLMFORGE_SDK_TESTS=OFF
    ctest --test-dir build-debian --output-on-failure -j "$jobs" --timeout 900
  fi
done
