#!/usr/bin/env bash
# Installs everything lmforge needs to build, test and benchmark. Safe to run again: what is
# already there is skipped.
#
#   tools/setup.sh                    LibTorch 2.x from the pinned `torch` wheel, in ./.venv (the default)
#   tools/setup.sh --debian-libtorch  also Debian's libtorch-dev 1.13 (the second supported line)
#   tools/setup.sh --bench            also the Python peers of the benchmarks
#   tools/setup.sh --tests            also what the test suite uses beyond the build: Chromium and a
#                                     Korean font (to render `lmforge report` pages), clang with
#                                     libFuzzer (tools/fuzz.sh), and in .venv transformers,
#                                     tokenizers and tensorboard (interop checks)
# Flags combine. Libraries other than LibTorch come from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/torch_pin.sh

debian_libtorch=0 bench=0 tests=0
for arg in "$@"; do
  case "$arg" in
    --debian-libtorch) debian_libtorch=1 ;;
    --bench) bench=1 ;;
    --tests) tests=1 ;;
    *) echo "tools/setup.sh: unknown option '$arg' (known: --debian-libtorch, --bench, --tests)" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake ninja-build ccache pkg-config git python3 python3-venv python3-pip
  libyaml-cpp-dev libboost-dev libboost-program-options-dev libboost-filesystem-dev
  catch2 libgloo-dev
  libsentencepiece-dev libicu-dev libstemmer-dev wordnet-base
)
# Debian's LibTorch 1.13 needs a threaded OpenBLAS beside it (the reference BLAS is 20x slower).
if ((debian_libtorch)); then packages+=(libtorch-dev libopenblas0-pthread); fi
# The tests also fuzz the parsers for a few seconds each (tools/fuzz.sh: clang's libFuzzer).
if ((tests)); then packages+=(chromium fonts-nanum clang-14 libclang-rt-14-dev); fi
# Benchmarks compare against Python PyTorch on the same LibTorch and against gensim/fastText.
if ((bench)); then packages+=(python3-torch python3-gensim fasttext python3-numpy python3-sentencepiece); fi

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

# LibTorch 2.x: the torch wheel carries its headers, libraries and CMake package. It goes into a
# project-local virtual environment (git-ignored), never into the system's Python.
if ! lmforge_torch_ready; then
  echo "lmforge setup: installing torch==$LMFORGE_TORCH_PIN into $LMFORGE_VENV"
  [[ -x "$LMFORGE_VENV/bin/python" ]] || python3 -m venv "$LMFORGE_VENV"
  "$LMFORGE_VENV/bin/python" -m pip install -q --disable-pip-version-check "torch==$LMFORGE_TORCH_PIN"
  lmforge_torch_ready || { echo "lmforge setup: torch $LMFORGE_TORCH_PIN did not install into $LMFORGE_VENV" >&2; exit 1; }
fi
if ((bench)); then
  "$LMFORGE_VENV/bin/python" -m pip install -q --disable-pip-version-check numpy
fi
# The interop tests compare with Hugging Face's own code (GPT-2 import, tokenizer ids) and read
# the TensorBoard files with TensorBoard's reader; peers for checks, never runtime dependencies.
if ((tests)); then
  interop=(transformers==5.25.0 tokenizers==0.23.3 tensorboard==2.21.0)
  if ! "$LMFORGE_VENV/bin/python" -c "import transformers, tokenizers, tensorboard" 2>/dev/null; then
    echo "lmforge setup: installing ${interop[*]} into $LMFORGE_VENV (for the interop tests)"
    "$LMFORGE_VENV/bin/python" -m pip install -q --disable-pip-version-check "${interop[@]}" ||
      echo "lmforge setup: warning: could not install ${interop[*]}; hf_gpt2_import will skip"
  fi
fi
