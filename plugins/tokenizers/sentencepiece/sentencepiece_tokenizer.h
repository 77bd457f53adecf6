#pragma once
// Subword tokenizer on Google's sentencepiece library (Debian's libsentencepiece-dev): a unigram
// or BPE model learned in-process from the stage's training text, or an existing `.model` file.
// Unknown words no longer exist (rare words become pieces; with byte_fallback, even unseen
// characters become bytes), and Korean words split into stems and endings instead of syllables.
//
// The model's ids are the vocabulary's ids. A model trained here puts <pad> <unk> <bos> <eos> at
// 0..3, exactly where every lmforge vocabulary has them; a model loaded from a file keeps its
// pieces in order after the four specials and its own unk/bos/eos/pad map onto them.
//
// The serialized model is attached to the vocabulary (`sentencepiece.model`), so it is saved with
// the run as vocab.sentencepiece.model — a plain sentencepiece model that spm_encode and Python's
// sentencepiece read too — and whatever reloads the vocabulary (init: {parts: [tokenizer]},
// generate, predict, embed) reloads the model.
//
// Example:
//   tokenizer: {type: sentencepiece, model_type: unigram, vocab_size: 8000}
//   tokenizer: {type: sentencepiece, model: ${data}/spm/ko.model}
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/options.h"
#include "lmforge/registry.h"
#include "lmforge/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace lmforge {

struct SentencePieceOptions {
  /// An existing sentencepiece `.model` file; when given nothing is trained and the training
  /// options below are ignored.
  std::string model;
  /// "unigram" (Kudo 2018, T5's) or "bpe" (GPT-2's merges).
  std::string model_type = "unigram";
  /// Pieces in the vocabulary, the four specials included.
  std::int64_t vocab_size = 8000;
  /// Share of the training text's characters the model must cover; the rarest rest become <unk>
  /// (or bytes, with byte_fallback). 0.9995 suits Korean, Chinese and Japanese, 1.0 small
  /// alphabets.
  double character_coverage = 0.9995;
  /// Spell characters the model does not know as their UTF-8 bytes instead of <unk>.
  bool byte_fallback = false;
  /// Strings that are always one piece (e.g. "<sep>", "<mask>"); no commas.
  std::vector<std::string> user_defined_symbols;
  /// Train on at most this many lines, sampled uniformly from the whole text (reservoir sampling,
  /// so memory stays bounded however large the corpus is); 0 = every line.
  std::int64_t input_sentence_size = 1000000;
  /// Trainer threads (0 = every core).
  std::int64_t threads = 0;
  /// Seed of the line sample.
  std::int64_t seed = 1;
  void visit(OptionVisitor& v);
};

class SentencePieceTokenizer : public Tokenizer {
 public:
  using Options = SentencePieceOptions;
  SentencePieceTokenizer(const SentencePieceOptions& options, const NoContext& context);
  ~SentencePieceTokenizer() override;
  SentencePieceTokenizer(SentencePieceTokenizer&&) noexcept;
  SentencePieceTokenizer& operator=(SentencePieceTokenizer&&) noexcept;

  /// The pieces of `text` (with sentencepiece's ▁ marking a word start).
  std::vector<std::string> split(std::string_view text) const override;
  /// Readable text from pieces: ▁ becomes a space again, byte pieces become their characters.
  std::string join(const std::vector<std::string>& tokens) const override;

  /// Keeps a bounded, uniform sample of the lines for training (nothing when a model was given).
  void count(std::string_view text) override;
  /// Trains the model on the sample (or loads `model`) and makes the vocabulary its pieces.
  void build_vocabulary() override;
  /// Restores the model attached to `vocab` (saved beside a stage's vocab.txt); throws DataError
  /// when it is missing, corrupt or does not match the vocabulary's tokens.
  void set_vocabulary(Vocabulary vocab) override;

  std::vector<std::int64_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<std::int64_t>& ids) const override;

  /// The attachment name of the serialized model.
  static constexpr const char* kModelAttachment = "sentencepiece.model";

 private:
  /// Loads a serialized model and builds the vocabulary and id maps from its pieces; `what`
  /// names the model's origin in errors.
  Vocabulary load_model(const std::string& serialized, const std::string& what);
  void train();
  /// Sets the vocabulary's counts to the trained model's piece frequencies on the sample (as
  /// if every sample line were encoded), on `workers` threads.
  void count_pieces(std::size_t workers);

  SentencePieceOptions options_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::string serialized_model_;
  // Model id -> vocabulary id and back; empty when they are the same (models trained here).
  std::vector<std::int64_t> to_vocab_;
  std::vector<int> to_model_;
  // Training sample.
  std::vector<std::string> sample_;
  std::int64_t lines_seen_ = 0;
  std::mt19937_64 sampler_;
};

}  // namespace lmforge
