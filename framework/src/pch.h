// Precompiled once, reused by every LibTorch target (see framework/CMakeLists.txt).
#pragma once
#include <torch/torch.h>
