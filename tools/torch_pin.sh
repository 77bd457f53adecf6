# Sourced by tools/setup.sh and tools/build.sh: the pinned LibTorch 2.x and where it lives.
LMFORGE_TORCH_PIN="${LMFORGE_TORCH_PIN:-2.15.0}"
LMFORGE_VENV="${LMFORGE_VENV:-$PWD/.venv}"

# True when the virtual environment holds the pinned torch.
lmforge_torch_ready() {
  [[ -x "$LMFORGE_VENV/bin/python" ]] &&
    "$LMFORGE_VENV/bin/python" -c "import sys, torch; sys.exit(not torch.__version__.startswith('$LMFORGE_TORCH_PIN'))" 2>/dev/null
}

# The install prefix of the virtual environment's torch: lib/ holds its libraries, share/cmake/
# its Torch and Caffe2 CMake packages.
lmforge_torch_prefix() {
  "$LMFORGE_VENV/bin/python" -c "import os, torch; print(os.path.dirname(torch.__file__))"
}
