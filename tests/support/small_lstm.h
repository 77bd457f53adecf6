#pragma once
// A small LSTM body and the head context built from it, for the head tests: one definition
// instead of a copy per test file.
#include <memory>

#include "lmforge/head.h"
#include "models/lstm/lstm.h"

namespace lmforge::test {

/// 2 layers, no dropout, `vocab` tokens with padding id `pad`.
inline std::shared_ptr<LstmBackbone> small_lstm(std::int64_t vocab, std::int64_t pad,
                                                std::int64_t embedding, std::int64_t hidden,
                                                bool tie_output) {
  LstmOptions options;
  options.embedding_dim = embedding;
  options.hidden_size = hidden;
  options.layers = 2;
  options.dropout = 0.0;
  options.tie_output = tie_output;
  BackboneContext context;
  context.vocab_size = vocab;
  context.padding_id = pad;
  return std::make_shared<LstmBackbone>(options, context);
}

/// A head's context on top of `backbone`, with `outputs` scores per position or sequence.
inline HeadContext head_context(Backbone& backbone, std::int64_t outputs) {
  HeadContext context;
  context.input_size = backbone.output_size();
  context.num_outputs = outputs;
  context.backbone = &backbone;
  return context;
}

}  // namespace lmforge::test
