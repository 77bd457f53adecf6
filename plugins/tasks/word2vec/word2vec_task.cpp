#include "word2vec_task.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>

#include "lmforge/error.h"
#include "lmforge/model.h"
#include "lmforge/word_vector_table.h"

namespace lmforge {
namespace fs = std::filesystem;

void Word2VecTaskOptions::visit(OptionVisitor& v) {
  v.field("train", train,
          "training text: a file, a directory of .txt files, or a glob such as books/*.txt")
      .required();
  v.choice("sentences", sentences, {"line", "paragraph"},
           "what a sentence is (windows never cross one): every line, or a paragraph of lines "
           "ended by an empty line (wrapped book text)");
  v.field("max_sentence_length", max_sentence_length, "longer sentences are cut (word2vec.c: 1000)")
      .positive();
  v.field("window", window,
          "largest distance between centre and context word; each centre word draws its window "
          "uniformly from 1..window")
      .positive();
  v.field("sample", sample,
          "frequent-word subsampling threshold as in word2vec.c (0 = keep every word)")
      .range(0.0, 1.0);
  v.field("alpha", alpha,
          "initial learning rate (fastText's default; word2vec.c uses it for CBOW and 0.025 for "
          "skip-gram)")
      .positive();
  v.field("min_alpha", min_alpha,
          "learning rate after the last word of the last epoch; it decays linearly")
      .non_negative();
  v.field("epochs", epochs,
          "epochs the learning rate decays over; must equal train.epochs (the task does not see "
          "the trainer's settings)")
      .positive();
  v.field("words_per_step", words_per_step, "words of text per trainer step").positive();
  v.field("threads", threads, "worker threads (0 = the recipe's threads)").non_negative();
  v.field("analogy", analogy,
          "analogy questions (questions-words.txt format) evaluated after each epoch");
  v.field("restrict_vocab", restrict_vocab,
          "only the most frequent words ask and answer analogies, as gensim does (0 = all)")
      .non_negative();
  v.field("similarity", similarity,
          "word-similarity files (WordSim-353, SimLex-999 layouts) evaluated after each epoch");
  v.field("write_tokenized", write_tokenized,
          "also write the training text as the tokenizer splits it, one sentence per line, to "
          "this file (identical input for gensim or fastText)");
}

namespace {

constexpr std::int64_t kFirstWord = 4;  // ids below are the specials, never trained
constexpr std::size_t kBlockBytes = 32 << 10;

std::uint64_t mix_seed(std::uint64_t seed, std::int64_t a, std::int64_t b, std::int64_t c) {
  std::uint64_t h = Word2VecRng(seed).next();
  for (std::int64_t x : {a, b, c}) h = Word2VecRng(h ^ static_cast<std::uint64_t>(x)).next();
  return h;
}

std::string file_stem(const std::string& path) { return fs::path(path).stem().string(); }

void require_file(const std::string& path, const std::string& option, const std::string& place) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw DataError(place, option + ": file '" + path + "' does not exist");
  }
}

}  // namespace

WordIndex::WordIndex(const Vocabulary& vocabulary) {
  std::size_t capacity = 16;
  while (capacity < 2 * static_cast<std::size_t>(vocabulary.size())) capacity *= 2;
  slots_.resize(capacity);
  mask_ = capacity - 1;
  for (std::int64_t id = 0; id < vocabulary.size(); ++id) {
    const std::string_view token = vocabulary.token(id);
    const std::size_t hash = std::hash<std::string_view>()(token);
    std::size_t i = hash & mask_;
    while (slots_[i].id >= 0) i = (i + 1) & mask_;
    slots_[i] = Slot{hash, token, id};
  }
}

std::int64_t WordIndex::find(std::string_view token) const {
  const std::size_t hash = std::hash<std::string_view>()(token);
  for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.id < 0) return Vocabulary::kUnk;
    if (slot.hash == hash && slot.token == token) return slot.id;
  }
}

struct Word2VecTask::Block {
  std::size_t begin;  // in text_
  std::size_t end;
  std::int64_t position;  // approximate stream offset, for the learning rate
  std::int64_t index;     // within the step, for the random seed
};

struct Word2VecTask::Worker {
  std::vector<std::int32_t> sentence;
  std::vector<float> hidden;
  std::vector<float> hidden_update;
};

struct Word2VecTask::Tally {
  double loss = 0;
  std::int64_t updates = 0;
  std::int64_t words = 0;
};

Word2VecTask::Word2VecTask(const Options& options, const TaskContext& context)
    : options_(options), context_(context) {
  refuse_data_parallel(context.world_size, context.place, "word2vec");
  if (options.min_alpha > options.alpha) {
    throw ConfigError(context.place, "min_alpha (" + std::to_string(options.min_alpha) +
                                         ") must not exceed alpha (" +
                                         std::to_string(options.alpha) + ")");
  }
}

void Word2VecTask::prepare(Tokenizer& tokenizer, bool fit_vocabulary) {
  corpus_ = std::make_unique<TextCorpus>(options_.train, context_.place);
  if (corpus_->size() == 0) {
    throw DataError(context_.place, "train: '" + options_.train + "' is empty");
  }
  if (!options_.analogy.empty()) require_file(options_.analogy, "analogy", context_.place);
  for (const auto& path : options_.similarity) require_file(path, "similarity", context_.place);

  if (fit_vocabulary) {
    corpus_->for_each_line([&](std::string_view line) { tokenizer.count(line); });
    tokenizer.build_vocabulary();
  }
  tokenizer_ = &tokenizer;
  vocabulary_ = tokenizer.vocabulary();
  index_ = WordIndex(vocabulary_);
  counts_ = vocabulary_.counts();
  std::int64_t all_tokens = 0;
  for (std::size_t id = 0; id < counts_.size(); ++id) {
    all_tokens += counts_[id];
    if (static_cast<std::int64_t>(id) < kFirstWord) counts_[id] = 0;
    train_words_ += counts_[id];
  }
  if (train_words_ == 0) {
    throw DataError(context_.place, "train: no word of '" + options_.train +
                                        "' is in the vocabulary; lower the tokenizer's min_count "
                                        "or give more text");
  }

  // word2vec.c's subsampling: keep a word of frequency f with probability
  // (sqrt(f / t) + 1) * t / f, t = sample * train_words.
  keep_.assign(counts_.size(), 0);
  const double threshold = options_.sample * static_cast<double>(train_words_);
  for (std::size_t id = 0; id < counts_.size(); ++id) {
    if (counts_[id] == 0) continue;
    double p = 1.0;
    if (options_.sample > 0) {
      const double f = static_cast<double>(counts_[id]);
      p = (std::sqrt(f / threshold) + 1.0) * threshold / f;
    }
    keep_[id] = p >= 1.0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(p * 4294967296.0);
  }

  // Steps are byte ranges; size them from the text's bytes per token. Without a fresh count
  // (vocabulary from an earlier stage) the first MiBs give the estimate.
  double bytes_per_token = 0;
  if (fit_vocabulary && all_tokens > 0) {
    bytes_per_token = static_cast<double>(corpus_->size()) / static_cast<double>(all_tokens);
  } else {
    std::string sample;
    corpus_->read_lines(0, 4 << 20, sample);
    std::int64_t tokens = 0;
    TextCorpus::split_lines(sample, [&](std::string_view line) {
      tokens += static_cast<std::int64_t>(tokenizer.split(line).size());
    });
    bytes_per_token = tokens > 0 ? static_cast<double>(sample.size()) / tokens : 6.0;
  }
  step_bytes_ = std::max<std::int64_t>(
      64 << 10, static_cast<std::int64_t>(bytes_per_token * options_.words_per_step));
  threads_ = options_.threads > 0 ? options_.threads : std::max(1, at::get_num_threads());
  if (!options_.write_tokenized.empty()) write_tokenized_text();
}

std::int64_t Word2VecTask::steps_per_epoch() const {
  return (corpus_->size() + step_bytes_ - 1) / step_bytes_;
}

void Word2VecTask::start_epoch(std::int64_t epoch) {
  if (epoch >= options_.epochs) {
    throw ConfigError(context_.place,
                      "train.epochs is larger than the word2vec task's epochs (" +
                          std::to_string(options_.epochs) +
                          "), over which the learning rate decays; set task.epochs to "
                          "train.epochs");
  }
  epoch_ = epoch;
}

double Word2VecTask::learning_rate(double progress) const {
  progress = std::min(1.0, std::max(0.0, progress));
  return options_.alpha - (options_.alpha - options_.min_alpha) * progress;
}

void Word2VecTask::bind(Model& model) {
  auto* backbone = dynamic_cast<Word2VecBackbone*>(&model.backbone());
  auto* head = dynamic_cast<Word2VecHead*>(&model.head());
  if (backbone == nullptr || head == nullptr) {
    throw ConfigError(context_.place,
                      std::string("the word2vec task trains a word2vec ") +
                          (backbone == nullptr ? "backbone (e.g. cbow or skipgram)"
                                               : "head (negative_sampling, hierarchical_softmax "
                                                 "or softmax)") +
                          "; the stage's " + (backbone == nullptr ? "backbone" : "head") +
                          " is not one");
  }
  torch::Tensor table = model.backbone().input_embedding();
  if (!table.defined() || table.dim() != 2 || table.size(0) != vocabulary_.size() ||
      table.scalar_type() != torch::kFloat || !table.is_contiguous()) {
    throw Error(context_.place,
                "the word2vec backbone's input embedding must be a contiguous "
                "float [vocabulary, dim] table");
  }
  if (!table.device().is_cpu()) {
    throw ConfigError(context_.place, "word2vec trains on the CPU; set the recipe's device: cpu");
  }
  head->prepare(counts_);
  backbone->prepare(vocabulary_);
  head_ = head;
  backbone_ = backbone;
  input_rows_ = table.data_ptr<float>();
  dim_ = table.size(1);
}

Word2VecTask::Tally Word2VecTask::train_block(const Block& block, std::string_view text,
                                              std::int64_t step, Worker& worker) {
  Word2VecRng rng(mix_seed(context_.seed, epoch_, step, block.index));
  // A skip-gram window's context rows form one block for the head (pWord2Vec's shared noise
  // words); CBOW hands over one centre word at a time.
  const std::int64_t block_rows = std::min(2 * options_.window, word2vec::kMaxBlockRows);
  worker.hidden.resize(static_cast<std::size_t>(block_rows * dim_));
  worker.hidden_update.resize(static_cast<std::size_t>(block_rows * dim_));
  const Word2VecRows rows{
      input_rows_, dim_, options_.window, head_, worker.hidden.data(), worker.hidden_update.data(),
      block_rows};
  const double all_bytes = static_cast<double>(corpus_->size()) * options_.epochs;
  const bool paragraphs = options_.sentences == "paragraph";
  const auto max_length = static_cast<std::size_t>(options_.max_sentence_length);
  std::vector<std::int32_t>& sentence = worker.sentence;
  sentence.clear();
  Tally tally;
  Word2VecLoss loss;
  float lr = 0;
  auto flush = [&] {
    if (sentence.size() >= 2) {
      const Word2VecSentence s{sentence.data(), static_cast<std::int64_t>(sentence.size()), lr};
      backbone_->train_sentence(rows, s, rng, loss);
    }
    sentence.clear();
  };
  std::size_t start = block.begin;
  while (start < block.end) {
    std::size_t newline = text.find('\n', start);
    if (newline == std::string_view::npos || newline > block.end) newline = block.end;
    const std::string_view line = text.substr(start, newline - start);
    const double position = static_cast<double>(epoch_) * static_cast<double>(corpus_->size()) +
                            static_cast<double>(block.position + (start - block.begin));
    lr = static_cast<float>(learning_rate(position / all_bytes));
    start = newline + 1;
    const std::vector<std::string> tokens = tokenizer_->split(line);
    if (tokens.empty()) {
      flush();
      continue;
    }
    tally.words += static_cast<std::int64_t>(tokens.size());
    for (const std::string& token : tokens) {
      const std::int64_t id = index_.find(token);
      if (id < kFirstWord) continue;
      const std::uint32_t keep = keep_[static_cast<std::size_t>(id)];
      if (keep != 0xFFFFFFFFu && static_cast<std::uint32_t>(rng.next() >> 32) >= keep) continue;
      sentence.push_back(static_cast<std::int32_t>(id));
      if (sentence.size() == max_length) flush();
    }
    if (!paragraphs) flush();
  }
  flush();
  tally.loss = loss.loss;
  tally.updates = loss.updates;
  return tally;
}

StepResult Word2VecTask::train_step(Model& model, std::int64_t step) {
  bind(model);
  const std::int64_t begin = step * step_bytes_;
  text_.clear();
  corpus_->read_lines(begin, begin + step_bytes_, text_);

  // Blocks end at an empty line where one is near (so paragraphs stay whole), else at a line end.
  std::vector<Block> blocks;
  for (std::size_t from = 0; from < text_.size();) {
    std::size_t to = text_.size();
    if (from + kBlockBytes < text_.size()) {
      const std::size_t blank = text_.find("\n\n", from + kBlockBytes);
      to = blank != std::string::npos && blank < from + 2 * kBlockBytes
               ? blank + 2
               : text_.find('\n', from + kBlockBytes) + 1;
    }
    blocks.push_back(Block{from, to, begin + static_cast<std::int64_t>(from),
                           static_cast<std::int64_t>(blocks.size())});
    from = to;
  }

  const auto workers = static_cast<std::size_t>(
      std::min<std::int64_t>(threads_, std::max<std::size_t>(1, blocks.size())));
  std::vector<Worker> state(workers);
  std::vector<Tally> tallies(workers);
  std::vector<std::exception_ptr> errors(workers);
  std::atomic<std::size_t> next{0};
  auto work = [&](std::size_t w) {
    try {
      for (std::size_t b; (b = next.fetch_add(1)) < blocks.size();) {
        const Tally t = train_block(blocks[b], text_, step, state[w]);
        tallies[w].loss += t.loss;
        tallies[w].updates += t.updates;
        tallies[w].words += t.words;
      }
    } catch (...) {
      errors[w] = std::current_exception();
    }
  };
  if (workers == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (std::size_t w = 0; w < workers; ++w) pool.emplace_back(work, w);
    for (auto& thread : pool) thread.join();
  }
  for (auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  Tally total;
  for (const Tally& t : tallies) {
    total.loss += t.loss;
    total.updates += t.updates;
    total.words += t.words;
  }
  const double mean = total.updates > 0 ? total.loss / static_cast<double>(total.updates) : 0.0;
  return StepResult{torch::tensor(mean, torch::kDouble), total.words, true};
}

Metrics Word2VecTask::evaluate(Model& model, const std::string& split) {
  Metrics metrics;
  if (split != "valid") return metrics;
  // With subwords, the vectors users see are each word's row averaged with its n-gram rows.
  WordVectors vectors(vocabulary_, vocabulary_vectors(model.backbone(), vocabulary_));
  if (!options_.analogy.empty()) {
    last_analogy_ = vectors.evaluate_analogies(options_.analogy, options_.restrict_vocab);
    metrics["analogy_accuracy"] = last_analogy_.accuracy();
    metrics["analogy_total"] = static_cast<double>(last_analogy_.total);
  }
  for (const auto& path : options_.similarity) {
    metrics["spearman." + file_stem(path)] = vectors.evaluate_similarity(path).spearman;
  }
  return metrics;
}

std::vector<std::string> Word2VecTask::eval_splits() const {
  if (options_.analogy.empty() && options_.similarity.empty()) return {};
  return {"valid"};
}

std::string Word2VecTask::primary_metric() const {
  if (options_.analogy.empty() && !options_.similarity.empty()) {
    return "spearman." + file_stem(options_.similarity.front());
  }
  return "analogy_accuracy";
}

std::vector<std::string> Word2VecTask::summary(const Metrics& final_metrics) const {
  std::vector<std::string> lines;
  auto accuracy = final_metrics.find("valid.analogy_accuracy");
  if (accuracy != final_metrics.end()) {
    std::ostringstream line;
    line << std::fixed << std::setprecision(2) << "analogy accuracy " << 100.0 * accuracy->second
         << "% on " << last_analogy_.total << " questions (" << last_analogy_.skipped
         << " skipped: a word outside the " << options_.restrict_vocab << " most frequent)";
    lines.push_back(line.str());
  }
  std::ostringstream similarity;
  for (const auto& path : options_.similarity) {
    auto it = final_metrics.find("valid.spearman." + file_stem(path));
    if (it == final_metrics.end()) continue;
    similarity << (similarity.tellp() > 0 ? ", " : "Spearman correlation with human judgements: ")
               << file_stem(path) << " " << std::fixed << std::setprecision(3) << it->second;
  }
  if (similarity.tellp() > 0) lines.push_back(similarity.str());
  return lines;
}

void Word2VecTask::write_tokenized_text() const {
  const std::string temporary = options_.write_tokenized + ".tmp";
  std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw DataError(context_.place,
                    "write_tokenized: cannot write '" + options_.write_tokenized + "'");
  }
  const bool paragraphs = options_.sentences == "paragraph";
  std::size_t length = 0;
  auto end_sentence = [&] {
    if (length > 0) out << '\n';
    length = 0;
  };
  corpus_->for_each_line([&](std::string_view line) {
    const std::vector<std::string> tokens = tokenizer_->split(line);
    if (tokens.empty()) return end_sentence();
    for (const std::string& token : tokens) {
      if (length > 0) out << ' ';
      out << token;
      if (++length == static_cast<std::size_t>(options_.max_sentence_length)) end_sentence();
    }
    if (!paragraphs) end_sentence();
  });
  end_sentence();
  out.close();
  if (!out) {
    throw DataError(context_.place,
                    "write_tokenized: cannot write '" + options_.write_tokenized + "'");
  }
  fs::rename(temporary, options_.write_tokenized);
}

}  // namespace lmforge
