#include "sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <chrono>
#include <exception>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "lmforge/error.h"

namespace lmforge {
namespace {

constexpr const char* kPlace = "tokenizer 'sentencepiece'";

std::string option_place(const char* option) { return std::string(kPlace) + " option " + option; }

// Feeds the kept sample to the trainer without copying it again.
class SampleIterator : public sentencepiece::SentenceIterator {
 public:
  explicit SampleIterator(const std::vector<std::string>& lines) : lines_(lines) {}
  bool done() const override { return index_ >= lines_.size(); }
  void Next() override { ++index_; }
  const std::string& value() const override { return lines_[index_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& lines_;
  std::size_t index_ = 0;
};

std::string read_model_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(option_place("model"),
                      "cannot read sentencepiece model '" + path +
                          "' (no such file, or not readable); give a .model file written by "
                          "spm_train or by an earlier lmforge run (vocab.sentencepiece.model)");
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

void SentencePieceOptions::visit(OptionVisitor& v) {
  v.field("model", model,
          "an existing sentencepiece .model file to use as is (nothing is trained; the options "
          "below are then ignored)");
  v.choice("model_type", model_type, {"unigram", "bpe"},
           "unigram: Kudo's unigram language model (T5, ALBERT); bpe: byte-pair merges (GPT-2)");
  v.field("vocab_size", vocab_size,
          "pieces in the vocabulary, <pad> <unk> <bos> <eos> included; training fails with a "
          "clear message when the text cannot support this many")
      .positive();
  v.field("character_coverage", character_coverage,
          "share of the training text's characters the model covers (0.98..1); the rarest others "
          "become <unk>, or bytes with byte_fallback. 0.9995 for Korean/CJK, 1.0 for small "
          "alphabets")
      .range(0.98, 1.0);
  v.field("byte_fallback", byte_fallback,
          "spell characters the model does not know as their UTF-8 bytes instead of <unk>");
  v.field("user_defined_symbols", user_defined_symbols,
          "strings that are always kept as one piece, e.g. [\"<sep>\", \"<mask>\"]");
  v.field("input_sentence_size", input_sentence_size,
          "train on at most this many lines, a uniform sample of the whole text kept in bounded "
          "memory; 0 = every line")
      .non_negative();
  v.field("threads", threads, "trainer threads; 0 = every core").non_negative();
  v.field("seed", seed, "seed of the training-line sample").non_negative();
}

SentencePieceTokenizer::SentencePieceTokenizer(const SentencePieceOptions& options,
                                               const NoContext&)
    : Tokenizer(VocabularyOptions{}),
      options_(options),
      processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()),
      sampler_(static_cast<std::uint64_t>(options.seed)) {
  // Checked here as well as by the recipe's declarations, for tokenizers built directly in C++.
  if (options_.model_type != "unigram" && options_.model_type != "bpe") {
    throw ConfigError(option_place("model_type"),
                      "unknown model_type '" + options_.model_type + "'; known: unigram, bpe");
  }
  const auto specials = static_cast<std::int64_t>(4 + options_.user_defined_symbols.size());
  if (options_.model.empty() && options_.vocab_size <= specials) {
    throw ConfigError(option_place("vocab_size"),
                      "vocab_size " + std::to_string(options_.vocab_size) +
                          " leaves no room for "
                          "pieces besides the " +
                          std::to_string(specials) + " special and user-defined symbols");
  }
  for (const std::string& symbol : options_.user_defined_symbols) {
    // The trainer takes the symbols as one comma-separated string.
    if (symbol.empty() || symbol.find(',') != std::string::npos) {
      throw ConfigError(option_place("user_defined_symbols"),
                        "symbol '" + symbol + "' must be non-empty and contain no comma");
    }
  }
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;
SentencePieceTokenizer::SentencePieceTokenizer(SentencePieceTokenizer&&) noexcept = default;
SentencePieceTokenizer& SentencePieceTokenizer::operator=(SentencePieceTokenizer&&) noexcept =
    default;

void SentencePieceTokenizer::count(std::string_view text) {
  if (!options_.model.empty() || text.empty()) return;  // a given model learns nothing
  ++lines_seen_;
  const auto cap = static_cast<std::uint64_t>(options_.input_sentence_size);
  if (cap == 0 || sample_.size() < cap) {
    sample_.emplace_back(text);
    return;
  }
  // Reservoir sampling (Vitter's algorithm R): every line seen so far is in the sample with the
  // same probability cap / lines_seen_, whatever the corpus size.
  std::uniform_int_distribution<std::uint64_t> pick(0, static_cast<std::uint64_t>(lines_seen_) - 1);
  const std::uint64_t slot = pick(sampler_);
  if (slot < cap) sample_[slot].assign(text);
}

void SentencePieceTokenizer::build_vocabulary() {
  if (!options_.model.empty()) {
    const std::string bytes = read_model_file(options_.model);
    Vocabulary vocab;
    try {
      vocab = load_model(bytes, "sentencepiece model '" + options_.model + "'");
    } catch (const DataError& e) {
      throw ConfigError(option_place("model"), e.what());
    }
    Tokenizer::set_vocabulary(std::move(vocab));
    return;
  }
  train();
}

void SentencePieceTokenizer::train() {
  if (sample_.empty()) {
    throw DataError(kPlace, "the training text has no non-empty line to learn a model from");
  }
  const auto threads = options_.threads > 0
                           ? options_.threads
                           : std::max<std::int64_t>(1, std::thread::hardware_concurrency());
  std::string symbols;
  for (const std::string& symbol : options_.user_defined_symbols) {
    symbols += (symbols.empty() ? "" : ",") + symbol;
  }
  // lmforge's specials at lmforge's ids, so model ids are vocabulary ids.
  std::unordered_map<std::string, std::string> args{
      {"model_type", options_.model_type},
      {"vocab_size", std::to_string(options_.vocab_size)},
      {"character_coverage", std::to_string(options_.character_coverage)},
      {"byte_fallback", options_.byte_fallback ? "true" : "false"},
      {"num_threads", std::to_string(threads)},
      {"input_sentence_size", "0"},  // the sample is already bounded
      {"pad_id", "0"},
      {"unk_id", "1"},
      {"bos_id", "2"},
      {"eos_id", "3"},
      {"pad_piece", Vocabulary::kPadToken},
      {"unk_piece", Vocabulary::kUnkToken},
      {"bos_piece", Vocabulary::kBosToken},
      {"eos_piece", Vocabulary::kEosToken},
      {"minloglevel", "2"},  // the trainer's progress log would drown lmforge's output
  };
  if (!symbols.empty()) args["user_defined_symbols"] = symbols;

  const auto start = std::chrono::steady_clock::now();
  SampleIterator lines(sample_);
  std::string serialized;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &lines, &serialized);
  if (!status.ok()) {
    const std::string message = status.message();
    // The trainer's messages end in a sentence that says what to do; keep it, drop the source
    // location before it.
    const std::string advice =
        message.substr(message.rfind(']') == std::string::npos ? 0 : message.rfind(']') + 1);
    if (message.find("Vocabulary size too high") != std::string::npos) {
      // e.g. "Vocabulary size too high (90000). Please set it to a value <= 23115."
      throw ConfigError(option_place("vocab_size"),
                        "vocab_size " + std::to_string(options_.vocab_size) +
                            " is larger than the training text supports:" + advice);
    }
    if (message.find("smaller than required_chars") != std::string::npos) {
      throw ConfigError(option_place("vocab_size"),
                        "vocab_size " + std::to_string(options_.vocab_size) +
                            " is too small for the characters the text needs" +
                            (options_.byte_fallback ? " and byte_fallback's 256 bytes" : "") + ":" +
                            advice);
    }
    throw ConfigError(kPlace, "training failed: " + message);
  }
  Tokenizer::set_vocabulary(load_model(serialized, "trained sentencepiece model"));
  const auto trained = std::chrono::steady_clock::now();

  // Piece frequencies on the sample: what counts() means for a subword vocabulary.
  count_pieces(static_cast<std::size_t>(threads));
  const Vocabulary& vocab = vocabulary();
  const auto seconds = [](auto from, auto to) {
    return std::chrono::duration<double>(to - from).count();
  };
  const auto counted = std::chrono::steady_clock::now();
  std::cout << "sentencepiece: trained a " << options_.model_type << " model of " << vocab.size()
            << " pieces on " << sample_.size() << " of " << lines_seen_ << " lines in "
            << std::fixed << std::setprecision(2) << seconds(start, trained)
            << " s, counted its pieces in " << seconds(trained, counted) << " s\n";
  std::vector<std::string>().swap(sample_);  // the sample is not needed any more
}

void SentencePieceTokenizer::count_pieces(std::size_t workers) {
  // Encoding every sample line again cost as much as encoding the whole corpus (on WikiText-2 a
  // fifth of lmforge's training time). But a trained model's pieces never span a space (the
  // trainer splits at whitespace and only a piece's first character may be ▁), and the
  // normaliser maps a space to itself, so a line's pieces are its space-separated words' pieces
  // one after the other: each distinct word is encoded once, its pieces counted as often as it
  // occurs (WikiText-2: 33 thousand distinct words instead of 2 million words in 36 thousand
  // lines). A user-defined symbol with a space or a ▁ in it could span two words (it is matched
  // on the normalised text, where a space is ▁): then every line is encoded as a whole.
  bool whole_lines = false;
  for (const std::string& symbol : options_.user_defined_symbols) {
    whole_lines = whole_lines || symbol.find(' ') != std::string::npos ||
                  symbol.find("\xE2\x96\x81") != std::string::npos;
  }
  workers = std::max<std::size_t>(1, workers);
  Vocabulary& vocab = mutable_vocabulary();
  const auto pieces = static_cast<std::size_t>(vocab.size());
  using Words = std::unordered_map<std::string_view, std::int64_t>;
  std::vector<Words> words(workers);
  std::vector<std::vector<std::int64_t>> partial(workers, std::vector<std::int64_t>(pieces, 0));
  // An exception must not leave a worker thread (that would end the process): kept, rethrown.
  std::vector<std::exception_ptr> failures(workers);
  const auto in_parallel = [&](auto&& work) {
    std::vector<std::thread> pool;
    for (std::size_t w = 0; w < workers; ++w) {
      pool.emplace_back([&, w] {
        try {
          work(w);
        } catch (...) {
          failures[w] = std::current_exception();
        }
      });
    }
    for (std::thread& t : pool) t.join();
    for (const std::exception_ptr& failure : failures) {
      if (failure) std::rethrow_exception(failure);
    }
  };
  if (whole_lines) {
    in_parallel([&](std::size_t w) {
      for (std::size_t i = w; i < sample_.size(); i += workers) {
        for (std::int64_t id : encode(sample_[i])) ++partial[w][static_cast<std::size_t>(id)];
      }
    });
  } else {
    // The words of each worker's share of the lines (views into the sample), merged into one.
    in_parallel([&](std::size_t w) {
      for (std::size_t i = w; i < sample_.size(); i += workers) {
        const std::string_view line = sample_[i];
        std::size_t begin = 0;
        while (begin < line.size()) {
          std::size_t end = line.find(' ', begin);
          if (end == std::string_view::npos) end = line.size();
          if (end > begin) ++words[w][line.substr(begin, end - begin)];
          begin = end + 1;
        }
      }
    });
    for (std::size_t w = 1; w < workers; ++w) {
      for (const auto& [word, n] : words[w]) words[0][word] += n;
      Words().swap(words[w]);
    }
    std::vector<std::pair<std::string_view, std::int64_t>> distinct(words[0].begin(),
                                                                    words[0].end());
    Words().swap(words[0]);
    in_parallel([&](std::size_t w) {
      for (std::size_t i = w; i < distinct.size(); i += workers) {
        for (std::int64_t id : encode(distinct[i].first)) {
          partial[w][static_cast<std::size_t>(id)] += distinct[i].second;
        }
      }
    });
  }
  for (std::size_t id = 0; id < pieces; ++id) {
    std::int64_t count = 0;
    for (const auto& counts : partial) count += counts[id];
    vocab.set_count(static_cast<std::int64_t>(id), count);
  }
}

Vocabulary SentencePieceTokenizer::load_model(const std::string& serialized,
                                              const std::string& what) {
  auto loaded = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = loaded->LoadFromSerializedProto(serialized);
  if (!status.ok() || loaded->GetPieceSize() <= 0) {
    throw DataError(what, std::string("not a usable sentencepiece model (") +
                              (status.ok() ? "no pieces" : status.message()) + ")");
  }
  Vocabulary vocab;
  const int pieces = loaded->GetPieceSize();
  std::vector<std::int64_t> to_vocab(static_cast<std::size_t>(pieces));
  bool same_ids = true;
  for (int i = 0; i < pieces; ++i) {
    std::int64_t id;
    if (loaded->IsUnknown(i)) {
      id = Vocabulary::kUnk;
    } else if (i == loaded->pad_id()) {
      id = Vocabulary::kPad;
    } else if (i == loaded->bos_id()) {
      id = Vocabulary::kBos;
    } else if (i == loaded->eos_id()) {
      id = Vocabulary::kEos;
    } else {
      id = vocab.add(loaded->IdToPiece(i));
    }
    to_vocab[static_cast<std::size_t>(i)] = id;
    same_ids = same_ids && id == i;
  }
  same_ids = same_ids && vocab.size() == pieces;
  if (same_ids) {
    to_vocab_.clear();
    to_model_.clear();
  } else {
    to_vocab_ = std::move(to_vocab);
    to_model_.assign(static_cast<std::size_t>(vocab.size()), -1);
    for (int i = 0; i < pieces; ++i) {
      int& slot = to_model_[static_cast<std::size_t>(to_vocab_[static_cast<std::size_t>(i)])];
      if (slot < 0) slot = i;
    }
  }
  processor_ = std::move(loaded);
  serialized_model_ = serialized;
  vocab.attach(kModelAttachment, serialized);
  return vocab;
}

void SentencePieceTokenizer::set_vocabulary(Vocabulary vocab) {
  const std::string* model = vocab.load_attachment(kModelAttachment);
  if (model == nullptr) {
    throw DataError("vocabulary",
                    "a sentencepiece tokenizer needs its model saved beside the vocabulary "
                    "(vocab.sentencepiece.model next to vocab.txt) and there is none; was the "
                    "vocabulary made by another tokenizer?");
  }
  const Vocabulary from_model = load_model(*model, "vocab.sentencepiece.model");
  if (!(from_model == vocab)) {
    throw DataError("vocabulary",
                    "its " + std::to_string(vocab.size()) +
                        " tokens are not the pieces of the sentencepiece model beside it (" +
                        std::to_string(from_model.size()) +
                        " pieces); a sentencepiece vocabulary cannot be extended or edited");
  }
  Tokenizer::set_vocabulary(std::move(vocab));  // keeps the saved counts
}

std::vector<std::string> SentencePieceTokenizer::split(std::string_view text) const {
  std::vector<std::string> pieces;
  const auto status = processor_->Encode(text, &pieces);
  if (!status.ok()) throw Error(kPlace, std::string("cannot encode: ") + status.message());
  return pieces;
}

std::string SentencePieceTokenizer::join(const std::vector<std::string>& tokens) const {
  std::string text;
  const auto status = processor_->Decode(tokens, &text);
  if (!status.ok()) throw Error(kPlace, std::string("cannot decode: ") + status.message());
  return text;
}

std::vector<std::int64_t> SentencePieceTokenizer::encode(std::string_view text) const {
  std::vector<int> model_ids;
  const auto status = processor_->Encode(text, &model_ids);
  if (!status.ok()) {
    throw Error(kPlace, std::string("cannot encode (no model trained or loaded yet?): ") +
                            status.message());
  }
  std::vector<std::int64_t> ids(model_ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto id = static_cast<std::size_t>(model_ids[i]);
    ids[i] = to_vocab_.empty() ? static_cast<std::int64_t>(id) : to_vocab_[id];
  }
  return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int64_t>& ids) const {
  std::vector<int> model_ids;
  model_ids.reserve(ids.size());
  const std::int64_t size = vocabulary().size();
  for (std::int64_t id : ids) {
    if (id == Vocabulary::kPad || id == Vocabulary::kBos || id == Vocabulary::kEos) continue;
    if (id < 0 || id >= size) {
      throw Error(kPlace, "token id " + std::to_string(id) + " is out of range for a " +
                              std::to_string(size) + "-piece vocabulary");
    }
    const int model_id =
        to_model_.empty() ? static_cast<int>(id) : to_model_[static_cast<std::size_t>(id)];
    if (model_id >= 0) model_ids.push_back(model_id);
  }
  std::string text;
  const auto status = processor_->Decode(model_ids, &text);
  if (!status.ok()) throw Error(kPlace, std::string("cannot decode: ") + status.message());
  return text;
}

}  // namespace lmforge
