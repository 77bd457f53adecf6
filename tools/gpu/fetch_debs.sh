#!/usr/bin/env bash
# Run here (a machine with Debian's package registry) before a GPU check: downloads the Debian
# packages a GPU machine lacks (yaml-cpp, Boost.Program_options, Catch2, gloo headers) into the
# git-ignored third_party_debs/, which `run` carries to the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p third_party_debs
cd third_party_debs
apt-get download libyaml-cpp-dev libyaml-cpp0.7 libboost1.74-dev libboost-program-options1.74-dev \
  libboost-program-options1.74.0 libboost-filesystem1.74-dev libboost-filesystem1.74.0 \
  libboost-program-options-dev libboost-dev catch2 libgloo-dev ninja-build ccache 2>&1 | tail -1
ls -1 *.deb | wc -l
