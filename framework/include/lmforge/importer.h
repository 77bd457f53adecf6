#pragma once
// An importer reads a model saved by another framework (e.g. a Hugging Face GPT-2 folder) into
// lmforge's terms; `lmforge import FORMAT SOURCE --output RUN` turns that into a finished stage
// that generate, predict, export and `init: {from: RUN/STAGE}` use like any other. Importers are
// registered by the plugin whose architecture they fill:
//   reg.importer<HfGpt2Importer>("hf-gpt2", "a Hugging Face GPT-2 folder");
// with `using Options = ...;` and a constructor `T(const Options&, const NoContext&)`.
#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

struct ImportedModel {
  /// The stage's components as recipe YAML: `task:`, `tokenizer:`, `backbone:` and `head:`
  /// mappings (a tokenizer that loads files names them by path; its vocabulary is built from them).
  std::string components_yaml;
  /// Every tensor under lmforge's checkpoint name ("backbone.…", "head.…"), shaped for a model
  /// over the tokenizer's vocabulary (ids 0..3 are lmforge's specials).
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  /// Lines worth telling the user (what was mapped, what was left out and why).
  std::vector<std::string> notes;
};

class LMFORGE_API Importer {
 public:
  virtual ~Importer() = default;
  /// Reads `source` (a file or folder); throws DataError naming what is missing or malformed.
  virtual ImportedModel read(const std::string& source) = 0;
};

}  // namespace lmforge
