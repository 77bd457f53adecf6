#pragma once
// Sequence to sequence: the two interfaces a translation-style task and `lmforge translate` use.
//
// A backbone that maps one sequence to another (an encoder-decoder) derives from Backbone *and*
// Seq2SeqBody; the task reaches it with dynamic_cast<Seq2SeqBody*>(&model.backbone()), so any
// plugin body works with any plugin task. Backbone::forward of such a body encodes (one token
// tensor in, the encoder's features out), so a classifier head may sit on its encoder.
//
// A task that translates derives from Task *and* Translator; `lmforge translate` reaches it the
// same way, never through a plugin's own class.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/export.h"
#include "lmforge/model.h"
#include "lmforge/tokenizer.h"

namespace lmforge {

class LMFORGE_API Seq2SeqBody {
 public:
  virtual ~Seq2SeqBody();
  /// source [B,S] int64 and its mask [B,S] bool (true = real token; undefined = all real) ->
  /// memory [B,S,H]. Rows' padding never changes their real positions' outputs.
  virtual torch::Tensor encode(const torch::Tensor& source, const torch::Tensor& source_mask) = 0;
  /// Decoder features [B,T,H] for the target prefix `target` [B,T] (starting with <bos>),
  /// attending causally to itself and to `memory` where `source_mask` is true. With a `cache`
  /// from an earlier call, `target` holds only the new tokens and the returned state is the
  /// extended cache; an empty cache starts one (returned only when `keep_cache`). Every tensor of
  /// a cache has the batch in dimension 0, so beam search reorders it with index_select(0, rows).
  virtual Features decode(const torch::Tensor& target, const torch::Tensor& memory,
                          const torch::Tensor& source_mask, const State& cache,
                          bool keep_cache) = 0;
  /// Longest source or target sequence the body accepts (positions it has).
  virtual std::int64_t max_positions() const = 0;
};

/// How `Translator::translate` searches.
struct DecodeOptions {
  /// Hypotheses kept per sentence; 1 is greedy search.
  std::int64_t beam = 1;
  /// Finished hypotheses are ranked by log-probability / length^length_penalty (0 = raw sum).
  double length_penalty = 1.0;
  /// At most max_length_a * source tokens + max_length_b target tokens (and the body's limit).
  double max_length_a = 1.5;
  std::int64_t max_length_b = 10;
  /// Sentences decoded together.
  std::int64_t batch_size = 64;
};

class LMFORGE_API Translator {
 public:
  virtual ~Translator();
  /// The translation of each of `sources` by a trained `model` (built by `lmforge translate`
  /// from the stage directory; the task constructed, not prepared). Runs on the device of the
  /// model's parameters. Throws ConfigError when `model`'s backbone is not a Seq2SeqBody.
  virtual std::vector<std::string> translate(Model& model, const Tokenizer& tokenizer,
                                             const std::vector<std::string>& sources,
                                             const DecodeOptions& options) = 0;
};

}  // namespace lmforge
