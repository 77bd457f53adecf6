#pragma once
// `lmforge import FORMAT SOURCE --output RUN`: an importer plugin (lmforge/importer.h) reads
// another framework's model; this writes it as a finished one-stage run (recipe.yaml, stage.yaml,
// vocab.txt with the tokenizer's files attached, a sealed checkpoint), so generate, predict,
// export, report and `init: {from: RUN/STAGE}` use it like a model trained here.
#include <string>
#include <vector>

#include "train/stage_artifacts.h"

namespace lmforge::interop {

struct ImportSummary {
  std::string stage_dir;
  std::int64_t vocab_size = 0, tensors = 0, parameters = 0;
  std::vector<std::string> notes;
};

ImportSummary import_model(const std::string& format, const std::string& source,
                           const std::string& run_dir, const std::string& stage_name);

/// The components the importer `format` makes of `source`, without writing anything (what
/// `init: {from: SOURCE, format: FORMAT}` takes when a stage omits them; read at validation).
StageComponents imported_components(const std::string& format, const std::string& source);

}  // namespace lmforge::interop
