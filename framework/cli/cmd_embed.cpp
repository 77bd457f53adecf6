// `lmforge embed RUN SUBCOMMAND ...`: explore, evaluate and export the input embedding of a
// trained stage (nearest words, analogies, clusters, outliers, word2vec files, benchmark scores).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <set>

#include "cli.h"
#include "cli_options.h"
#include "cmd_embed_texts.h"
#include "config/suggest.h"
#include "embed/vector_formats.h"
#include "lmforge/embeddings.h"
#include "lmforge/error.h"
#include "lmforge/text_file.h"
#include "lmforge/word_vector_table.h"
#include "plugins/plugin_loader.h"
#include "search/text_embedding.h"
#include "train/runtime.h"
#include "train/stage_artifacts.h"

namespace lmforge::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage = "lmforge embed RUN SUBCOMMAND [ARGS] [options]";
constexpr const char* kSubcommandHelp =
    "RUN is a run directory (its last stage with a checkpoint) or one stage's directory; with\n"
    "--vectors-format word2vec|word2vec-binary|glove it is a vectors file instead (any tool's:\n"
    "gensim, fastText, Stanford GloVe), for every subcommand but search and --corpus.\n"
    "\n"
    "subcommands:\n"
    "  nearest WORD [-k 10] [--metric cosine|l2]     the closest words\n"
    "  analogy A B C [-k 5]                          A is to B as C is to ? (B - A + C, 3CosAdd)\n"
    "  similarity A B                                cosine similarity of two words\n"
    "  (with a subword model, `subwords: true`, these three also take words outside the\n"
    "  vocabulary: their vectors are the mean of their character n-gram rows)\n"
    "  search --corpus FILE --query TEXT [-k 10]     the lines of FILE nearest to TEXT\n"
    "  search --corpus FILE --queries FILE [-k 10]   line i of --queries asks for line i of\n"
    "                                                --corpus: recall@1 and recall@k\n"
    "  cluster -k N [--limit 2000] [--seed 1] [--show 10]\n"
    "                                                k-means clusters of the most frequent words\n"
    "  outliers [-k 10] [--limit 2000] [--count 20] [--seed 1]\n"
    "                                                words farthest from their cluster centre\n"
    "  cluster/outliers --corpus FILE ...            the same over the lines of FILE\n"
    "A line of text is the mean of its words' vectors (a word2vec or GloVe run) or of the\n"
    "backbone's features over its tokens (a language model's or a classifier's run).\n"
    "  export --output PATH [--format word2vec|word2vec-binary]\n"
    "                                                word2vec file (gensim, fastText, ...)\n"
    "  evaluate [--analogies FILE] [--similarity FILE ...] [--restrict-vocab 30000]\n"
    "                                                analogy accuracy (as gensim computes it),\n"
    "                                                Spearman correlation with human scores\n";

struct Subcommand {
  const char* name;
  std::size_t words;              // positional arguments after the subcommand
  const char* word_names;         // for the error message
  std::set<std::string> options;  // options it reads, besides --help and --plugin-path
};

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> all{
      {"nearest", 1, "WORD", {"k", "metric"}},
      {"analogy", 3, "A B C", {"k"}},
      {"similarity", 2, "A B", {}},
      {"cluster", 0, "", {"k", "limit", "seed", "show", "corpus"}},
      {"outliers", 0, "", {"k", "limit", "count", "seed", "corpus"}},
      {"search", 0, "", {"corpus", "query", "queries", "k"}},
      {"export", 0, "", {"format", "output"}},
      {"evaluate", 0, "", {"analogies", "similarity", "restrict-vocab"}},
  };
  return all;
}

std::vector<std::string> subcommand_names() {
  std::vector<std::string> names;
  for (const auto& s : subcommands()) names.emplace_back(s.name);
  return names;
}

const Subcommand* find_subcommand(const std::string& name) {
  for (const auto& s : subcommands()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

template <typename T>
T option_or(const po::variables_map& values, const char* name, T fallback) {
  return values.count(name) ? values[name].as<T>() : fallback;
}

std::int64_t positive(const po::variables_map& values, const char* name, std::int64_t fallback) {
  const std::int64_t value = option_or<std::int64_t>(values, name, fallback);
  if (value <= 0) throw ConfigError(std::string("--") + name, "must be greater than 0");
  return value;
}

std::int64_t non_negative(const po::variables_map& values, const char* name,
                          std::int64_t fallback) {
  const std::int64_t value = option_or<std::int64_t>(values, name, fallback);
  if (value < 0) throw ConfigError(std::string("--") + name, "must be 0 or greater");
  return value;
}

std::string format_score(double value) {
  if (std::isnan(value)) return "n/a";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  return buffer;
}

std::string format_percent(std::int64_t part, std::int64_t whole) {
  if (whole == 0) return "n/a";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f%%", 100.0 * double(part) / double(whole));
  return buffer;
}

std::string pad(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

std::string describe_subset(std::int64_t limit, std::int64_t words) {
  if (limit == 0 || limit >= words) return "all " + std::to_string(words) + " words";
  return "the " + std::to_string(limit) + " most frequent words";
}

// A word as the user typed it may differ from the vocabulary's form only by the tokenizer's
// normalisation (lowercasing): take the tokenizer's form when it makes exactly one token, so a
// subword model composes an unknown word from the characters it was trained on.
std::string vocabulary_form(const Tokenizer& tokenizer, const std::string& word) {
  const Vocabulary& vocabulary = tokenizer.vocabulary();
  if (vocabulary.contains(word)) return word;
  std::vector<std::string> tokens = tokenizer.split(word);
  if (tokens.size() == 1) return tokens[0];
  return word;
}

void print_neighbours(const std::vector<Neighbour>& neighbours, bool negate) {
  for (const auto& n : neighbours) {
    std::cout << "  " << format_score(negate ? -n.score : n.score) << "  " << n.word << "\n";
  }
}

int run_cluster(const WordVectors& vectors, std::int64_t k, std::int64_t limit, std::uint64_t seed,
                std::int64_t show) {
  std::vector<std::int64_t> assignment = vectors.cluster(k, limit, seed);
  const Vocabulary& vocabulary = vectors.vocabulary();
  // Clusters are numbered by their most frequent member, so the list reads from common words to
  // rare ones and does not depend on the order k-means happened to find them in.
  std::vector<std::int64_t> order;
  std::vector<std::vector<std::int64_t>> members(static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < assignment.size(); ++i) {
    auto& list = members[static_cast<std::size_t>(assignment[i])];
    if (list.empty()) order.push_back(assignment[i]);
    list.push_back(static_cast<std::int64_t>(i) + Vocabulary::kEos + 1);
  }
  std::cout << k << " clusters of " << describe_subset(limit, std::int64_t(assignment.size()))
            << " (k-means, cosine, seed " << seed << "); most frequent members first:\n";
  for (std::size_t c = 0; c < order.size(); ++c) {
    const auto& list = members[static_cast<std::size_t>(order[c])];
    std::cout << "cluster " << c + 1 << " (" << list.size() << " words):";
    for (std::size_t i = 0; i < list.size() && std::int64_t(i) < show; ++i) {
      std::cout << (i ? ", " : " ") << vocabulary.token(list[i]);
    }
    if (std::int64_t(list.size()) > show) std::cout << ", ...";
    std::cout << "\n";
  }
  return 0;
}

int run_evaluate(const WordVectors& vectors, const std::string& analogies,
                 const std::vector<std::string>& similarity, std::int64_t restrict_vocab) {
  if (!analogies.empty()) {
    AnalogyResult result = vectors.evaluate_analogies(analogies, restrict_vocab);
    const std::int64_t words = vectors.vocabulary().size() - Vocabulary::kEos - 1;
    std::cout << "analogies: " << analogies << " (" << describe_subset(restrict_vocab, words)
              << ", case-insensitive, 3CosAdd)\n";
    std::size_t width = 5;
    for (const auto& name : result.section_order) width = std::max(width, name.size());
    auto row = [&](const std::string& name, std::int64_t correct, std::int64_t total) {
      std::cout << "  " << pad(name, width) << "  "
                << pad(std::to_string(correct) + "/" + std::to_string(total), 13)
                << format_percent(correct, total) << "\n";
    };
    for (const auto& name : result.section_order) {
      const auto& counts = result.sections.at(name);
      row(name, counts.first, counts.second);
    }
    row("total", result.correct, result.total);
    const bool restricted = restrict_vocab != 0 && restrict_vocab < words;
    std::cout << "  " << result.skipped << " of " << result.total + result.skipped
              << " questions skipped: a word "
              << (restricted ? "outside the " + std::to_string(restrict_vocab) + " most frequent"
                             : std::string("not in the vocabulary"))
              << "\n";
  }
  for (const auto& path : similarity) {
    SimilarityResult result = vectors.evaluate_similarity(path);
    std::cout << "similarity: " << path << "\n"
              << "  Spearman " << format_score(result.spearman) << "  Pearson "
              << format_score(result.pearson) << "  on " << result.pairs << " of "
              << result.pairs + result.skipped << " pairs (coverage "
              << format_percent(result.pairs, result.pairs + result.skipped) << ")\n";
  }
  return 0;
}

/// What the word subcommands read besides the vectors, checked before anything loads.
struct WordCommandSettings {
  std::vector<std::string> words;  ///< the subcommand's words, as typed
  std::string metric = "cosine";
  std::int64_t k = 0;  ///< 0 = the subcommand's default
  std::int64_t limit = 2000;
  std::uint64_t seed = 1;
  std::int64_t show = 10;
  std::int64_t count = 20;
  std::string format = "word2vec";
  std::string output;
  std::string analogies;
  std::vector<std::string> similarity;
  std::int64_t restrict_vocab = 30000;
};

/// nearest, analogy, similarity, cluster, outliers, export and evaluate over `vectors`;
/// `word_form` maps a typed word to the vocabulary's form of it.
int run_word_command(const std::string& name, const WordVectors& vectors,
                     const std::function<std::string(const std::string&)>& word_form,
                     const WordCommandSettings& settings) {
  const Vocabulary& vocabulary = vectors.vocabulary();
  auto word = [&](std::size_t i) { return word_form(settings.words[i]); };
  auto k_or = [&](std::int64_t fallback) { return settings.k > 0 ? settings.k : fallback; };
  if (name == "nearest") {
    std::cout << "nearest to '" << word(0) << "' ("
              << (settings.metric == "l2" ? "L2 distance" : "cosine similarity") << "):\n";
    print_neighbours(vectors.nearest(word(0), k_or(10), settings.metric), settings.metric == "l2");
  } else if (name == "analogy") {
    std::cout << "'" << word(0) << "' is to '" << word(1) << "' as '" << word(2)
              << "' is to (cosine similarity):\n";
    print_neighbours(vectors.analogy(word(0), word(1), word(2), k_or(5)), false);
  } else if (name == "similarity") {
    std::cout << "cosine similarity of '" << word(0) << "' and '" << word(1)
              << "': " << format_score(vectors.similarity(word(0), word(1))) << "\n";
  } else if (name == "cluster") {
    return run_cluster(vectors, settings.k, settings.limit, settings.seed, settings.show);
  } else if (name == "outliers") {
    const std::int64_t k = k_or(10);
    const std::int64_t words_total = vocabulary.size() - Vocabulary::kEos - 1;
    auto outliers = vectors.outliers(k, settings.limit, settings.count, settings.seed);
    std::cout << outliers.size() << " words farthest from their centre among " << k
              << " k-means clusters of " << describe_subset(settings.limit, words_total)
              << " (cosine similarity to the centre, seed " << settings.seed << "):\n";
    print_neighbours(outliers, false);
  } else if (name == "export") {
    const bool binary = settings.format == "word2vec-binary";
    const std::int64_t written = vectors.save_word2vec(settings.output, binary);
    const std::int64_t left_out = vocabulary.size() - Vocabulary::kEos - 1 - written;
    std::cout << "wrote " << written << " vectors of dimension " << vectors.vectors().size(1)
              << " to " << settings.output << " (" << (binary ? "word2vec binary" : "word2vec text")
              << ")\n";
    if (left_out > 0) {
      std::cout << "left out " << left_out
                << " token(s) containing a space or a newline, which the format cannot hold\n";
    }
  } else if (name == "evaluate") {
    return run_evaluate(vectors, settings.analogies, settings.similarity, settings.restrict_vocab);
  }
  return 0;
}

}  // namespace

int embed_command(const Args& args) {
  po::options_description options("options");
  options.add_options()("help,h", "show this help")(
      "k,k", po::value<std::int64_t>(),
      "nearest: results (10); analogy: results (5); cluster: clusters (required); outliers: "
      "clusters (10)")("metric", po::value<std::string>(), "nearest: cosine (default) or l2")(
      "limit", po::value<std::int64_t>(),
      "cluster/outliers: use the N most frequent words (2000; 0 = all)")(
      "seed", po::value<std::uint64_t>(), "cluster/outliers: k-means++ seed (1)")(
      "show", po::value<std::int64_t>(), "cluster: members printed per cluster (10)")(
      "count", po::value<std::int64_t>(), "outliers: words printed (20)")(
      "format", po::value<std::string>(), "export: word2vec (text, default) or word2vec-binary")(
      "output", po::value<std::string>(), "export: file to write")(
      "analogies", po::value<std::string>(), "evaluate: questions-words.txt-style file")(
      "similarity", po::value<std::vector<std::string>>()->composing(),
      "evaluate: word-pair similarity file, e.g. WordSim-353 or SimLex-999 (repeatable)")(
      "restrict-vocab", po::value<std::int64_t>(),
      "evaluate: analogy questions use the N most frequent words (30000; 0 = all)")(
      "corpus", po::value<std::string>(),
      "search/cluster/outliers: a UTF-8 text file, one text a line")(
      "query", po::value<std::string>(), "search: the text to look for")(
      "queries", po::value<std::string>(),
      "search: a file whose line i asks for line i of --corpus (prints recall@1, recall@k)");
  options.add_options()("vectors-format", po::value<std::string>(),
                        "RUN is a vectors file in this format: word2vec (text), word2vec-binary "
                        "or glove (header-less text)");
  add_plugin_path_option(options);
  Parsed parsed = parse_command("embed", args, options);
  const po::variables_map& values = parsed.values;
  if (values.count("help")) {
    std::cout << "usage: " << kUsage << "\n\n" << kSubcommandHelp << "\n" << options << "\n";
    return 0;
  }

  const auto& positional = parsed.positional;
  const std::string known = join_names(subcommand_names());
  if (positional.size() < 2) {
    if (positional.size() == 1 && find_subcommand(positional[0])) {
      throw ConfigError("lmforge embed", "expected RUN before the subcommand: lmforge embed RUN " +
                                             positional[0] + " ...");
    }
    throw ConfigError("lmforge embed",
                      "expected a RUN directory and a subcommand (" + known + "); see --help");
  }
  const std::string& run = positional[0];
  const std::string& name = positional[1];
  const Subcommand* subcommand = find_subcommand(name);
  if (!subcommand) {
    if (find_subcommand(run)) {
      throw ConfigError("lmforge embed", "the RUN directory comes first: lmforge embed " + name +
                                             " " + run + " ...");
    }
    throw ConfigError("lmforge embed", "unknown subcommand '" + name + "'" +
                                           did_you_mean(name, subcommand_names()) +
                                           "; subcommands: " + known);
  }
  const std::vector<std::string> words(positional.begin() + 2, positional.end());
  if (words.size() != subcommand->words) {
    throw ConfigError("lmforge embed " + name, subcommand->words == 0
                                                   ? "takes no words, got '" + words.front() + "'"
                                                   : std::string("expects ") +
                                                         subcommand->word_names + ", got " +
                                                         std::to_string(words.size()) + " word(s)");
  }
  // An option the subcommand does not read would be silently ignored: refuse it instead.
  for (const auto& option : options.options()) {
    const std::string& long_name = option->long_name();
    if (long_name == "help" || long_name == "plugin-path" || long_name == "vectors-format" ||
        !values.count(long_name)) {
      continue;
    }
    if (!subcommand->options.count(long_name)) {
      throw ConfigError("--" + long_name, "is not an option of `lmforge embed " + name + "`");
    }
  }

  // Everything that can be checked without the model is checked before loading it.
  WordCommandSettings settings;
  settings.words = words;
  settings.metric = option_or<std::string>(values, "metric", "cosine");
  if (settings.metric != "cosine" && settings.metric != "l2") {
    throw ConfigError("--metric", "unknown metric '" + settings.metric + "'" +
                                      did_you_mean(settings.metric, {"cosine", "l2"}) +
                                      "; metrics: cosine, l2");
  }
  settings.format = option_or<std::string>(values, "format", "word2vec");
  if (settings.format != "word2vec" && settings.format != "word2vec-binary") {
    throw ConfigError("--format",
                      "unknown format '" + settings.format + "'" +
                          did_you_mean(settings.format, {"word2vec", "word2vec-binary"}) +
                          "; formats: word2vec, word2vec-binary");
  }
  settings.seed = option_or<std::uint64_t>(values, "seed", 1);
  settings.limit = non_negative(values, "limit", 2000);
  settings.restrict_vocab = non_negative(values, "restrict-vocab", 30000);
  if (values.count("k")) settings.k = positive(values, "k", 0);
  settings.show = positive(values, "show", 10);
  settings.count = positive(values, "count", 20);
  if (name == "export") {
    if (!values.count("output")) throw ConfigError("--output", "export needs an output file");
    settings.output = values["output"].as<std::string>();
    const fs::path parent = fs::path(settings.output).parent_path();
    std::error_code ec;
    if (!parent.empty() && !fs::is_directory(parent, ec)) {
      throw ConfigError("--output", "directory '" + parent.string() + "' does not exist");
    }
  }
  if (name == "cluster" && !values.count("k")) {
    throw ConfigError("lmforge embed cluster", "needs the number of clusters: -k N");
  }
  settings.analogies = option_or<std::string>(values, "analogies", "");
  settings.similarity = option_or<std::vector<std::string>>(values, "similarity", {});
  if (name == "evaluate") {
    if (settings.analogies.empty() && settings.similarity.empty()) {
      throw ConfigError("lmforge embed evaluate",
                        "give --analogies FILE and/or --similarity FILE (e.g. "
                        "questions-words.txt, wordsim353.tsv, simlex999.txt)");
    }
    std::vector<std::string> files(settings.similarity);
    if (!settings.analogies.empty()) files.push_back(settings.analogies);
    for (const auto& file : files) {
      std::error_code ec;
      if (!fs::is_regular_file(file, ec)) throw DataError(file, "file not found");
    }
  }

  const bool over_texts = name == "search" || values.count("corpus");
  const std::string vectors_format = option_or<std::string>(values, "vectors-format", "");
  if (!vectors_format.empty()) {
    const std::vector<std::string>& formats = embed::vector_file_formats();
    if (std::find(formats.begin(), formats.end(), vectors_format) == formats.end()) {
      throw ConfigError("--vectors-format", "unknown format '" + vectors_format + "'" +
                                                did_you_mean(vectors_format, formats) +
                                                "; formats: " + join_names(formats));
    }
    if (over_texts) {
      throw ConfigError("--vectors-format",
                        "a vectors file has words only; search and --corpus need a run directory");
    }
    require_readable_file(run, "RUN", "lmforge embed --vectors-format " + vectors_format);
    configure_runtime(0);
    WordVectors file_vectors = embed::load_vector_file(run, vectors_format);
    // Words are looked up as written: a file carries no tokenizer to normalise them.
    return run_word_command(
        name, file_vectors, [](const std::string& w) { return w; }, settings);
  }

  TextCommandOptions texts;
  if (over_texts) {
    if (!values.count("corpus")) throw ConfigError("--corpus", "search needs --corpus FILE");
    if (values.count("limit")) {
      throw ConfigError("--limit", "counts words; with --corpus every line is used");
    }
    texts.corpus = values["corpus"].as<std::string>();
    require_readable_file(texts.corpus, "--corpus", "lmforge embed " + name);
    texts.query = option_or<std::string>(values, "query", "");
    texts.queries = option_or<std::string>(values, "queries", "");
    if (name == "search" && texts.query.empty() == texts.queries.empty()) {
      throw ConfigError("lmforge embed search", "give --query TEXT or --queries FILE (one)");
    }
    if (!texts.queries.empty()) require_readable_file(texts.queries, "--queries", "lmforge embed");
    texts.k = positive(values, "k", name == "cluster" ? 0 : 10);
    texts.show = settings.show;
    texts.count = settings.count;
    texts.seed = settings.seed;
    // Refused before the model loads: a corpus that cannot be read costs no wait.
    read_corpus(texts.corpus, "--corpus");
  }

  load_plugins(parsed);
  configure_runtime(0);
  LoadedStage stage = load_stage(run);
  if (over_texts) return run_text_command(name, stage, texts);
  const Vocabulary& vocabulary = stage.tokenizer->vocabulary();
  // A subword model's vectors are each word's row averaged with its character n-gram rows.
  torch::Tensor embedding = vocabulary_vectors(stage.model->backbone(), vocabulary);
  if (!embedding.defined()) {
    throw ConfigError("lmforge embed", "the '" + stage.components.backbone.type + "' backbone of " +
                                           stage.dir +
                                           " has no input embedding table (input_embedding() is "
                                           "undefined), so there are no word vectors to explore");
  }
  // Some backbones pad the table beyond the vocabulary (to a multiple of 8, say); those rows are
  // no words.
  if (embedding.dim() == 2 && embedding.size(0) > vocabulary.size()) {
    embedding = embedding.slice(0, 0, vocabulary.size());
  }
  WordVectors vectors(vocabulary, embedding);
  auto* table = dynamic_cast<WordVectorTable*>(&stage.model->backbone());
  if (table != nullptr && table->has_subwords()) {
    vectors.set_unknown_word_vectors([table, &vocabulary](const std::string& word) {
      return table->word_vector(vocabulary, word);
    });
  }
  const Tokenizer& tokenizer = *stage.tokenizer;
  return run_word_command(
      name, vectors, [&tokenizer](const std::string& w) { return vocabulary_form(tokenizer, w); },
      settings);
}

}  // namespace lmforge::cli
