#pragma once
// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the raw little-endian bytes. Read by
// `safetensors`, `transformers` and plain Python (tools/interop/lmforge_torch.py). Public SDK: an
// importer plugin reads another framework's weights with it.
#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Writes `tensors` (any device; copied to the CPU, contiguous) and `metadata` (string to
/// string, the header's "__metadata__") to `path` atomically. Tensors are laid out in name order.
/// Throws Error for a dtype safetensors has no name for, or a repeated name.
LMFORGE_API void write_safetensors(const std::string& path, const NamedTensors& tensors,
                                   const std::map<std::string, std::string>& metadata = {});

struct SafetensorsFile {
  NamedTensors tensors;  ///< in name order
  std::map<std::string, std::string> metadata;
};

/// Reads a whole file; throws DataError naming `path` (and the tensor) when the header is not
/// JSON, a dtype is unknown, or a byte range is out of the file or disagrees with the shape.
LMFORGE_API SafetensorsFile read_safetensors(const std::string& path);

}  // namespace lmforge
