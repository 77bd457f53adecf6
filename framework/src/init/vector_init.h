#pragma once
// `init: {vectors: FILE | RUN_DIR, format: word2vec | word2vec-binary | glove, freeze: ...}`:
// pre-trained word vectors as the first layer of another model. Each vocabulary word's row of
// the backbone's input embedding (Backbone::input_embedding) takes the word's vector, matched
// exactly or else case-insensitively; a word the vectors lack gets a row drawn uniform with the
// found vectors' variance (Kim 2014), so the two kinds of rows start on one scale.
#include <torch/torch.h>

#include <string>

#include "lmforge/backbone.h"
#include "lmforge/embeddings.h"
#include "lmforge/vocabulary.h"
#include "recipe/recipe.h"

namespace lmforge {

/// The vectors `init` names: a file read in `init.format`, or a run/stage directory's input
/// embedding with its vocabulary. Errors name `place` (the recipe's) or the file and line.
WordVectors read_init_vectors(const InitSpec& init, const std::string& place);

struct VectorCoverage {
  std::int64_t words = 0;    ///< vocabulary words (specials excluded)
  std::int64_t exact = 0;    ///< found as written
  std::int64_t folded = 0;   ///< found after case folding
  double missing_bound = 0;  ///< missing rows drawn uniform in ±this
};

/// Fills `backbone`'s input embedding from `vectors` for the ids of `vocabulary`. Throws
/// ConfigError at `place` when the backbone exposes no embedding or the widths differ (both
/// named). The padding row stays as the backbone set it.
VectorCoverage fill_input_embedding(Backbone& backbone, const Vocabulary& vocabulary,
                                    const WordVectors& vectors, const std::string& place);

/// "8123 of 8931 vocabulary words found (90.95%: 8000 as written, 123 by case); 808 missing
/// rows drawn uniform in ±0.3100 (the found vectors' variance)".
std::string describe(const VectorCoverage& coverage);

}  // namespace lmforge
