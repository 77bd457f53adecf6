#pragma once
// `lmforge import hf-gpt2 DIR`: a Hugging Face GPT-2 folder (config.json, model.safetensors,
// vocab.json, merges.txt, as `save_pretrained` writes them) read into this plugin's causal
// transformer with the tanh GELU GPT-2 was trained with, an lm head tied to the token embedding,
// and the gpt2_bpe tokenizer over the same files. GPT-2's Conv1D weights are stored [in, out] and
// become linear weights [out, in]; its token i is lmforge's i + 4, the four specials' embedding
// rows are zero (so they never win a softmax they were not trained for).
#include <string>

#include "lmforge/importer.h"
#include "lmforge/options.h"
#include "lmforge/registry.h"

namespace lmforge {

struct HfGpt2ImporterOptions {
  void visit(OptionVisitor&) {}
};

class HfGpt2Importer : public Importer {
 public:
  using Options = HfGpt2ImporterOptions;
  HfGpt2Importer(const Options&, const NoContext&) {}
  ImportedModel read(const std::string& source) override;
};

}  // namespace lmforge
