#!/usr/bin/env bash
# Builds the test suite with AddressSanitizer + UndefinedBehaviorSanitizer (clang) into
# build-asan/ and runs it with ctest, LeakSanitizer on in the same pass.
#
#   tools/sanitize.sh [ctest arguments]   e.g. tools/sanitize.sh -R 'reliability|checkpoint'
#
# A cold build of everything with clang (nothing shared with the normal build's cache, ~330
# steps) takes hours on 2 shared cores; the suite then ran in 34 minutes (README, Reliability).
# Start it early and nice it. LibTorch itself is not instrumented, so memory errors inside
# it go unseen; everything of lmforge's (core, CLI, plugins, tests) is. Prints the number of
# tests run and of reports per sanitizer; exit 1 on any report or failed test.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/torch_pin.sh
build=build-asan
cxx="$(command -v clang++-14 || command -v clang++ || true)"
[[ -n "$cxx" ]] || { echo "sanitize.sh: needs clang (apt-get install clang-14)" >&2; exit 2; }
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
generator=()
[[ ! -f "$build/CMakeCache.txt" ]] && command -v ninja >/dev/null && generator=(-G Ninja)
# -O1 and line tables only: a report needs file:line, not variables, and the LibTorch-heavy
# sources compile faster without -O2's inlining and full debug information. The SDK-packaging tests install and
# rebuild plugins as separate projects: out of scope here.
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" -DLMFORGE_SDK_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$(lmforge_torch_prefix)" >/dev/null
cmake --build "$build" -j "$(nproc)"

# Every binary here links the sanitizer runtime, and plugins are dlopen()ed into an instrumented
# process, so nothing needs preloading. One pass with leak detection on: a report names its
# sanitizer, and a second pass would double a run of hours. Suppressions cover only libraries
# lmforge does not build (each with its reason in the file).
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tools/ubsan.supp"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0
export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0"
log="$build/sanitize.log"
start=$SECONDS
status=0
ctest --test-dir "$build" --output-on-failure --timeout 1800 -j "$(nproc)" "$@" >"$log" 2>&1 || status=1
tests=$(sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\)/\1/p' "$log" | tail -1)
asan=$(grep -c 'ERROR: AddressSanitizer' "$log" || true)
ubsan=$(grep -c 'runtime error:' "$log" || true)
lsan=$(grep -c 'ERROR: LeakSanitizer' "$log" || true)
grep -E 'tests passed|The following tests FAILED|^\s+[0-9]+ - ' "$log" || true
echo "sanitize.sh: ${tests:-?} tests in $((SECONDS - start)) s; reports: AddressSanitizer $asan," \
  "UndefinedBehaviorSanitizer $ubsan, LeakSanitizer $lsan (log: $log)"
((asan + ubsan + lsan == 0)) || status=1
exit "$status"
