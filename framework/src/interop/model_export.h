#pragma once
// `lmforge export`: a trained stage's weights as safetensors plus a config.json that says what
// each tensor is and how the model is built (every component with its resolved options, defaults
// included), so another framework can rebuild it (tools/interop/lmforge_torch.py does, in PyTorch).
#include <cstdint>
#include <string>

#include "train/stage_artifacts.h"

namespace lmforge::interop {

struct ExportSummary {
  std::string weights, config, vocabulary, check;  ///< files written ("" = not written)
  std::int64_t tensors = 0, parameters = 0, bytes = 0;
};

/// Writes `weights` (safetensors), config.json and vocab.txt beside it, and with
/// `check_tokens` > 0 also check.safetensors: a seeded batch of token ids [2, check_tokens] and the
/// logits the model gives them (eval mode), for a reader to compare against.
ExportSummary export_safetensors(LoadedStage& stage, const std::string& weights,
                                 std::int64_t check_tokens);

}  // namespace lmforge::interop
