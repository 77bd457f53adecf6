#!/usr/bin/env bash
# One command from a fresh Debian machine to a passing test suite: installs, builds against
# LibTorch 2.x (the pinned torch wheel, the default line), runs every test with ctest, then each
# fuzz target for 15 s. Tests that need ../shared/data skip themselves with a message when it is
# absent.
#   tools/test.sh                    LibTorch 2.x
#   tools/test.sh --debian-libtorch  then Debian's LibTorch 1.13 too (into build-debian/), the
#                                    suite without the SDK-packaging tests
set -euo pipefail
cd "$(dirname "$0")/.."
lines=(default)
[[ "${1:-}" == "--debian-libtorch" ]] && lines+=(debian)
if [[ " ${lines[*]} " == *" debian "* ]]; then tools/setup.sh --tests --debian-libtorch; else tools/setup.sh --tests; fi
jobs="$(nproc)"
for line in "${lines[@]}"; do
  if [[ $line == default ]]; then
    echo "== LibTorch 2.x (torch wheel): build and full test suite"
    tools/build.sh
    ctest --test-dir build --output-on-failure -j "$jobs" --timeout 900
    # Every fuzz target for a short bounded time, on the seeds and the regression inputs of
    # tests/fuzz/regressions: a crash, a sanitizer report or a regression that fails again fails
    # CI (its input lands in build-fuzz/crashes/). The long runs are tools/fuzz.sh 3600 by hand.
    echo "== fuzz targets, 15 s each (libFuzzer + ASan + UBSan, clang; tools/fuzz.sh)"
    tools/fuzz.sh 15
  else
    echo "== LibTorch 1.13 (Debian libtorch-dev): build and test suite without the SDK tests"
    tools/build.sh --debian-libtorch -DLMFORGE_SDK_TESTS=OFF
    ctest --test-dir build-debian --output-on-failure -j "$jobs" --timeout 900
  fi
done
