#!/usr/bin/env bash
# One command from a fresh Debian machine to a passing test suite, on both supported LibTorch
# lines: installs, builds against LibTorch 2.x (the pinned torch wheel, the default line), runs
# every test with ctest and each fuzz target for 15 s; then builds against Debian's LibTorch 1.13
# (into build-debian/) and runs the core and recipe tests there (ctest labels framework and
# recipes). Tests that need ../shared/data skip themselves with a message when it is absent.
#   tools/test.sh                 both lines (what CI runs)
#   tools/test.sh --default-only  LibTorch 2.x alone
#   tools/test.sh --debian-full   both lines, the whole suite on 1.13 too (but the SDK-packaging
#                                 tests, which install and rebuild against the default line)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=(default debian) debian_tests=core
case "${1:-}" in
  "") ;;
  --default-only) lines=(default) ;;
  --debian-full) debian_tests=all ;;
  *) echo "tools/test.sh: unknown option '$1' (known: --default-only, --debian-full)" >&2; exit 2 ;;
esac
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
  elif [[ $debian_tests == core ]]; then
    # The second line checks that the one source still compiles and behaves on LibTorch 1.13:
    # the core (framework) and recipe tests, which drive every bundled plugin through the CLI.
    echo "== LibTorch 1.13 (Debian libtorch-dev): build, core and recipe tests"
    LMFORGE_BUILD_TARGET=lmforge_core_tests tools/build.sh --debian-libtorch -DLMFORGE_SDK_TESTS=OFF
    ctest --test-dir build-debian --output-on-failure -j "$jobs" --timeout 900 -L 'framework|recipes'
  else
    echo "== LibTorch 1.13 (Debian libtorch-dev): build and test suite without the SDK tests"
    tools/build.sh --debian-libtorch -DLMFORGE_SDK_TESTS=OFF
    ctest --test-dir build-debian --output-on-failure -j "$jobs" --timeout 900
  fi
done
