#include "glove_task.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "glove_model.h"
#include "lmforge/error.h"
#include "lmforge/model.h"

namespace lmforge::glove {
namespace fs = std::filesystem;

void GloveTaskOptions::visit(OptionVisitor& v) {
  v.field("train", train, "training text: a file, or a directory of .txt files").required();
  v.choice("sentences", sentences, {"line", "paragraph"},
           "what a sentence is (windows never cross one): every line, or a paragraph of lines "
           "ended by an empty line (wrapped book text)");
  v.field("window", window, "context words counted on each side of a word").positive();
  v.field("symmetric", symmetric,
          "count the words on both sides (true) or only those to the left (false)");
  v.field("distance_weighting", distance_weighting,
          "an occurrence at distance d counts 1/d (true) or 1 (false)");
  v.field("memory_mb", memory_mb,
          "MiB for counting and shuffling; beyond it sorted runs spill to disk and are merged")
      .positive();
  v.field("eta", eta, "AdaGrad's initial learning rate").positive();
  v.field("grad_clip", grad_clip, "gradient components are clipped to +-grad_clip").positive();
  v.field("records_per_step", records_per_step, "co-occurrence records per trainer step")
      .positive();
  v.field("threads", threads, "worker threads (0 = the recipe's threads)").non_negative();
  v.field("analogy", analogy,
          "analogy questions (questions-words.txt format) evaluated after each epoch");
  v.field("restrict_vocab", restrict_vocab,
          "only the most frequent words ask and answer analogies, as gensim does (0 = all)")
      .non_negative();
  v.field("similarity", similarity,
          "word-similarity files (WordSim-353, SimLex-999 layouts) evaluated after each epoch");
}

namespace {

constexpr std::int64_t kFirstWord = 4;  // ids below are the specials, never counted

std::string file_stem(const std::string& path) { return fs::path(path).stem().string(); }

void require_file(const std::string& path, const std::string& option, const std::string& place) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw DataError(place, option + ": file '" + path + "' does not exist");
  }
}

// A file, or a directory's .txt files in name order.
std::vector<std::string> corpus_files(const std::string& source, const std::string& place) {
  std::error_code ec;
  if (fs::is_regular_file(source, ec)) return {source};
  if (!fs::is_directory(source, ec)) {
    throw DataError(place, "train: '" + source + "' is neither a file nor a directory");
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(source, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw DataError(place, "train: directory '" + source + "' has no .txt file");
  return files;
}

// Every line of every file in order, then an empty line after each file so a file boundary
// also ends a paragraph.
void for_each_line(const std::vector<std::string>& files,
                   const std::function<void(const std::string&)>& on_line) {
  std::string line;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(path, "cannot read");
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      on_line(line);
    }
    if (in.bad()) throw DataError(path, "read error");
    on_line(std::string());
  }
}

std::uint64_t fnv1a(std::uint64_t hash, const std::string& text) {
  for (unsigned char c : text) hash = (hash ^ c) * 0x100000001B3ull;
  return hash;
}

}  // namespace

GloveTask::GloveTask(const Options& options, const TaskContext& context)
    : options_(options), context_(context) {
  refuse_data_parallel(context.world_size, context.place, "glove");
}

void GloveTask::prepare(Tokenizer& tokenizer, bool fit_vocabulary) {
  files_ = corpus_files(options_.train, context_.place);
  std::uintmax_t bytes = 0;
  for (const auto& file : files_) bytes += fs::file_size(file);
  if (bytes == 0) throw DataError(context_.place, "train: '" + options_.train + "' is empty");
  if (!options_.analogy.empty()) require_file(options_.analogy, "analogy", context_.place);
  for (const auto& path : options_.similarity) require_file(path, "similarity", context_.place);

  if (fit_vocabulary) {
    for_each_line(files_, [&](const std::string& line) { tokenizer.count(line); });
    tokenizer.build_vocabulary();
  }
  vocabulary_ = tokenizer.vocabulary();
  if (vocabulary_.size() <= kFirstWord) {
    throw DataError(context_.place, "train: no word of '" + options_.train +
                                        "' is in the vocabulary; lower the tokenizer's "
                                        "min_count or give more text");
  }
  threads_ = options_.threads > 0 ? options_.threads : std::max(1, at::get_num_threads());
  count_cooccurrences(tokenizer);
}

std::string GloveTask::fingerprint() const {
  std::uint64_t hash = 0xCBF29CE484222325ull;
  for (std::int64_t id = 0; id < vocabulary_.size(); ++id) {
    hash = fnv1a(hash, vocabulary_.token(id) + '\n');
  }
  std::ostringstream s;
  s << "vocabulary " << std::hex << hash << std::dec << " " << vocabulary_.size() << "\n"
    << "window " << options_.window << " symmetric " << options_.symmetric << " distance "
    << options_.distance_weighting << " sentences " << options_.sentences << " seed "
    << context_.seed << "\n";
  for (const auto& file : files_) {
    std::error_code ec;
    const auto time = fs::last_write_time(file, ec).time_since_epoch().count();
    s << "file " << fs::absolute(file).string() << " " << fs::file_size(file, ec) << " " << time
      << "\n";
  }
  return s.str();
}

void GloveTask::count_cooccurrences(const Tokenizer& tokenizer) {
  const fs::path dir = fs::path(context_.stage_dir) / "glove";
  fs::create_directories(dir);
  records_path_ = (dir / "cooccurrence.shuf.bin").string();
  const fs::path stamp = dir / "cooccurrence.txt";
  const std::string expected = fingerprint();

  // A finished count with the same vocabulary, text and options is reused (resume, reruns).
  std::error_code ec;
  if (fs::exists(stamp, ec) && fs::exists(records_path_, ec)) {
    std::ifstream in(stamp);
    std::stringstream content;
    content << in.rdbuf();
    const std::string text = content.str();
    const std::size_t split = text.find("records ");
    if (split != std::string::npos && text.substr(0, split) == expected) {
      std::istringstream tail(text.substr(split));
      std::string word;
      tail >> word >> records_ >> word >> stats_.tokens;
      if (records_ == count_records(records_path_) && records_ > 0) {
        reused_ = true;
        std::cout << "glove: reusing " << records_ << " co-occurrence records in " << records_path_
                  << "\n";
        return;
      }
    }
  }

  const auto start = std::chrono::steady_clock::now();
  const auto memory = static_cast<std::int64_t>(options_.memory_mb * 1024.0 * 1024.0);
  CooccurrenceOptions counting;
  counting.window = options_.window;
  counting.symmetric = options_.symmetric;
  counting.distance_weighting = options_.distance_weighting;
  counting.memory_bytes = memory;
  counting.temp_dir = (dir / "tmp").string();
  const std::string sorted = (dir / "cooccurrence.bin").string();
  {
    // The counter's table and buffer are released before shuffling, which has the memory
    // cap to itself.
    CooccurrenceCounter counter(vocabulary_.size(), kFirstWord, counting);
    std::vector<std::int32_t> sentence;
    const bool paragraphs = options_.sentences == "paragraph";
    auto flush = [&] {
      if (sentence.size() >= 2) counter.add_sentence(sentence.data(), sentence.size());
      sentence.clear();
    };
    for_each_line(files_, [&](const std::string& line) {
      const std::vector<std::string> tokens = tokenizer.split(line);
      if (tokens.empty()) return flush();
      for (const std::string& token : tokens) {
        const std::int64_t id = vocabulary_.id(token);
        // Words outside the vocabulary are dropped, so the window spans known words only.
        if (id >= kFirstWord) sentence.push_back(static_cast<std::int32_t>(id));
      }
      if (!paragraphs) flush();
    });
    flush();
    stats_ = counter.finish(sorted);
  }
  if (stats_.records == 0) {
    throw DataError(context_.place, "train: no two vocabulary words of '" + options_.train +
                                        "' share a window; give more text or lower min_count");
  }
  records_ = shuffle_records(sorted, records_path_, memory, context_.seed, counting.temp_dir);
  fs::remove(sorted, ec);
  fs::remove(counting.temp_dir, ec);
  std::ofstream(stamp) << expected << "records " << records_ << " tokens " << stats_.tokens << "\n";
  counting_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "glove: " << records_ << " co-occurrence records from " << stats_.tokens
            << " words in " << std::fixed << std::setprecision(1) << counting_seconds_
            << " s (dense table " << stats_.dense_cells
            << " cells, rank product <= " << stats_.max_product << "; " << stats_.runs
            << " sorted runs spilled and merged)\n";
}

std::int64_t GloveTask::steps_per_epoch() const {
  return (records_ + options_.records_per_step - 1) / options_.records_per_step;
}

StepResult GloveTask::train_step(Model& model, std::int64_t step) {
  auto* backbone = dynamic_cast<GloveBackbone*>(&model.backbone());
  auto* head = dynamic_cast<GloveHead*>(&model.head());
  if (backbone == nullptr || head == nullptr) {
    throw ConfigError(context_.place,
                      std::string("the glove task trains the glove backbone and the glove head; "
                                  "the stage's ") +
                          (backbone == nullptr ? "backbone" : "head") + " is another");
  }
  const GloveBackbone::Tables tables = backbone->tables();
  AdaGradSettings settings;
  settings.dim = backbone->dim();
  settings.eta = static_cast<float>(options_.eta);
  settings.grad_clip = static_cast<float>(options_.grad_clip);
  settings.x_max = static_cast<float>(head->x_max());
  settings.alpha = static_cast<float>(head->alpha());

  const std::int64_t begin = step * options_.records_per_step;
  const std::int64_t count = std::min(options_.records_per_step, records_ - begin);
  if (count <= 0) return StepResult{torch::tensor(0.0, torch::kDouble), 0, true};
  read_records(records_path_, begin, count, step_records_);

  const auto workers = static_cast<std::size_t>(std::min<std::int64_t>(threads_, count));
  std::vector<AdaGradTally> tallies(workers);
  std::vector<std::exception_ptr> errors(workers);
  auto work = [&](std::size_t w) {
    try {
      const std::size_t from = step_records_.size() * w / workers;
      const std::size_t to = step_records_.size() * (w + 1) / workers;
      tallies[w] = adagrad_update(tables, step_records_.data() + from, to - from, settings);
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
  AdaGradTally total;
  for (const auto& t : tallies) {
    total.cost += t.cost;
    total.updates += t.updates;
    total.skipped += t.skipped;
  }
  if (total.updates == 0) {
    throw Error(context_.place, "every GloVe update of step " + std::to_string(step) +
                                    " diverged (non-finite prediction); lower eta");
  }
  const double mean = total.cost / static_cast<double>(total.updates);
  return StepResult{torch::tensor(mean, torch::kDouble), count, true};
}

Metrics GloveTask::evaluate(Model& model, const std::string& split) {
  Metrics metrics;
  if (split != "valid") return metrics;
  WordVectors vectors(vocabulary_, model.backbone().input_embedding().detach().to(torch::kCPU));
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

std::vector<std::string> GloveTask::eval_splits() const {
  if (options_.analogy.empty() && options_.similarity.empty()) return {};
  return {"valid"};
}

std::string GloveTask::primary_metric() const {
  if (options_.analogy.empty() && !options_.similarity.empty()) {
    return "spearman." + file_stem(options_.similarity.front());
  }
  return "analogy_accuracy";
}

std::vector<std::string> GloveTask::summary(const Metrics& final_metrics) const {
  std::vector<std::string> lines;
  {
    std::ostringstream line;
    line << records_ << " co-occurrence records (window " << options_.window << ", "
         << (options_.symmetric ? "symmetric" : "left context only") << ", "
         << (options_.distance_weighting ? "1/distance" : "unweighted") << ")";
    if (!reused_) {
      line << ", counted in " << std::fixed << std::setprecision(1) << counting_seconds_
           << " s with " << stats_.runs << " spilled runs";
    }
    lines.push_back(line.str());
  }
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

}  // namespace lmforge::glove
