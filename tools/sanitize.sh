#!/usr/bin/env bash
# Builds the test suite with AddressSanitizer + UndefinedBehaviorSanitizer (clang) into
# build-asan/ and runs it with ctest; then runs it again with LeakSanitizer on.
#
#   tools/sanitize.sh [ctest arguments]   e.g. tools/sanitize.sh -R 'reliability|checkpoint'
#
# A cold build of everything with clang (nothing shared with the normal build's cache): on 2 cores
# plan on an hour. LibTorch itself is not instrumented, so memory errors inside it go unseen;
# everything of lmforge's (core, CLI, plugins, tests) is. Exit 1 on any sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/torch_pin.sh
build=build-asan
cxx="$(command -v clang++-14 || command -v clang++ || true)"
[[ -n "$cxx" ]] || { echo "sanitize.sh: needs clang (apt-get install clang-14)" >&2; exit 2; }
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  # The SDK-packaging tests install and rebuild plugins as separate projects: out of scope here.
  cmake -S . -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" -DLMFORGE_SDK_TESTS=OFF \
    -DCMAKE_PREFIX_PATH="$(lmforge_torch_prefix)"
fi
cmake --build "$build" -j "$(nproc)"

# Plugins are dlopen()ed into an instrumented process; the runtime must come first when an
# uninstrumented program (the shell of a test) starts an instrumented one: nothing to preload,
# every binary here links it.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_odr_violation=0
echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
ctest --test-dir "$build" --output-on-failure --timeout 1800 "$@" | tee "$build/asan.log"
echo "== LeakSanitizer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0
export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0"
ctest --test-dir "$build" --output-on-failure --timeout 1800 "$@" | tee "$build/lsan.log"
