#!/usr/bin/env bash
# One command from a fresh Debian machine to a passing test suite: installs, builds, runs ctest.
# Tests that need ../shared/data skip themselves with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 900
