#pragma once
// The LibTorch version this code is compiled against, as "MAJOR.MINOR", without pulling in
// <torch/torch.h>. Plugins must match the host's MAJOR.MINOR.
#include <torch/csrc/api/include/torch/version.h>

#define LMFORGE_STR_(x) #x
#define LMFORGE_STR(x) LMFORGE_STR_(x)
#define LMFORGE_TORCH_VERSION_STRING \
  LMFORGE_STR(TORCH_VERSION_MAJOR) "." LMFORGE_STR(TORCH_VERSION_MINOR)
