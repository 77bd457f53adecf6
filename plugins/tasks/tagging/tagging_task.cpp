#include "tagging_task.h"

#include <algorithm>
#include <set>

#include "lmforge/error.h"
#include "lmforge/text_util.h"
#include "lmforge/vocabulary.h"

namespace lmforge {

void TaggingOptions::visit(OptionVisitor& v) {
  visit_data(v, "training data: one 'token ... label' per line, a blank line between sentences",
             Unit::kSentences);
  visit_format(v);
}

TaggingTask::TaggingTask(const Options& options, const TaskContext& context)
    : LabelledTask(context,
                   Traits{"tagging", LabelledTask::Granularity::kToken,
                          "a per-token head such as 'tagger'", "tag", "token accuracy",
                          /*stream_base: streams 11-14, as before the task became a plugin*/ 10,
                          "sentences"},
                   options),
      options_(options) {
  if (options_.token_column == options_.label_column) {
    throw ConfigError(context.place, "token_column and label_column are both " +
                                         std::to_string(options_.token_column));
  }
}

std::vector<TaggingTask::Sentence> TaggingTask::read_sentences(const Options& options,
                                                               const std::string& path,
                                                               const std::string& option,
                                                               const std::string& place) {
  return read_conll(options, options.encoding, path, option, place);
}

std::int64_t TaggingTask::token_id(const Tokenizer& tokenizer, const std::string& token) {
  std::string key;
  for (const std::string& piece : tokenizer.split(token)) key += piece;
  return tokenizer.vocabulary().id(key);
}

std::vector<TaggingTask::Example> TaggingTask::encode(
    const Tokenizer& tokenizer, const std::vector<std::string>& tokens,
    const std::vector<std::int64_t>& label_ids) const {
  std::vector<Example> pieces;
  const std::size_t n = tokens.size();
  const auto width = static_cast<std::size_t>(options_.max_length);
  for (std::size_t start = 0; start < n; start += width) {
    Example piece;
    for (std::size_t i = start; i < std::min(n, start + width); ++i) {
      piece.ids.push_back(token_id(tokenizer, tokens[i]));
      if (!label_ids.empty()) piece.labels.push_back(label_ids[i]);
    }
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

void TaggingTask::prepare(Tokenizer& tokenizer, bool fit_vocabulary) {
  const std::string& place = context().place;
  std::vector<Sentence> train = read_sentences(options_, options_.train, "train", place);
  if (train.empty()) {
    throw DataError(place, "training data '" + options_.train + "' has no sentences");
  }
  // From the whole training file, so `fraction`/`limit` never change the head's size.
  std::set<std::string> unique;
  for (const auto& s : train) unique.insert(s.labels.begin(), s.labels.end());
  set_labels({unique.begin(), unique.end()});
  auto ids_of = [&](const Sentence& s) {
    std::vector<std::int64_t> ids;
    ids.reserve(s.labels.size());
    for (std::size_t i = 0; i < s.labels.size(); ++i) {
      ids.push_back(label_id(s.labels[i], text_util::where(s.path, s.lines[i])));
    }
    return ids;
  };

  std::map<std::string, std::vector<Sentence>> eval_sentences;
  for (const auto& [split, path] :
       {std::pair<std::string, std::string>{"valid", options_.valid}, {"test", options_.test}}) {
    if (path.empty()) continue;
    auto sentences = read_sentences(options_, path, split, place);
    if (sentences.empty()) throw DataError(place, split + " data '" + path + "' has no sentences");
    for (const auto& s : sentences) ids_of(s);  // an unknown label fails before any training
    eval_sentences[split] = std::move(sentences);
  }
  auto selection = select_training(train.size(), {});
  if (!selection.held_out.empty()) {
    eval_sentences["valid"] = batching::pick(train, selection.held_out);
  }
  train = batching::pick(train, selection.train);

  // A token the tokenizer would cut (e.g. "U.S." with the word tokenizer) has no single piece to
  // count; it is looked up whole and is <unk> unless an earlier stage's vocabulary holds it.
  std::int64_t tokens = 0, cut = 0;
  std::string cut_example;
  for (const auto& s : train) {
    for (const auto& token : s.tokens) {
      ++tokens;
      if (tokenizer.split(token).size() == 1) {
        if (fit_vocabulary) tokenizer.count(token);
      } else if (++cut == 1) {
        cut_example = token;
      }
    }
  }
  if (2 * cut > tokens) {
    throw ConfigError(place, "tagging looks every token up whole, but the tokenizer cuts " +
                                 std::to_string(cut) + " of the " + std::to_string(tokens) +
                                 " training tokens (e.g. '" + cut_example +
                                 "') into pieces; use tokenizer {type: word}");
  }
  if (fit_vocabulary) tokenizer.build_vocabulary();

  auto encode_all = [&](const std::vector<Sentence>& sentences) {
    std::vector<Example> out;
    for (const auto& s : sentences) {
      for (auto& piece : encode(tokenizer, s.tokens, ids_of(s))) out.push_back(std::move(piece));
    }
    return out;
  };
  set_examples("train", encode_all(train));
  for (const auto& [split, sentences] : eval_sentences) set_examples(split, encode_all(sentences));
  compute_baselines();
  report_unknown_share(!fit_vocabulary);
}

void TaggingTask::compute_baselines() {
  majority_baseline_.clear();
  word_baseline_.clear();
  const std::size_t classes = labels().size();
  std::vector<std::int64_t> tag_counts(classes, 0);
  std::map<std::int64_t, std::vector<std::int64_t>> word_tag_counts;
  for (const auto& e : examples("train")) {
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
      ++tag_counts[e.labels[i]];
      auto& counts = word_tag_counts[e.ids[i]];
      if (counts.empty()) counts.assign(classes, 0);
      ++counts[e.labels[i]];
    }
  }
  auto most_frequent = [](const std::vector<std::int64_t>& counts) {
    return static_cast<std::int64_t>(std::max_element(counts.begin(), counts.end()) -
                                     counts.begin());
  };
  const std::int64_t majority = most_frequent(tag_counts);
  std::map<std::int64_t, std::int64_t> word_tag;
  for (const auto& [id, counts] : word_tag_counts) word_tag[id] = most_frequent(counts);
  for (const char* split : {"train", "valid", "test"}) {
    const auto& data = examples(split);
    if (data.empty()) continue;
    std::int64_t total = 0, majority_hits = 0, word_hits = 0;
    for (const auto& e : data) {
      for (std::size_t i = 0; i < e.ids.size(); ++i) {
        ++total;
        majority_hits += e.labels[i] == majority;
        auto it = word_tag.find(e.ids[i]);
        word_hits += e.labels[i] == (it == word_tag.end() ? majority : it->second);
      }
    }
    auto n = static_cast<double>(std::max<std::int64_t>(1, total));
    majority_baseline_[split] = static_cast<double>(majority_hits) / n;
    word_baseline_[split] = static_cast<double>(word_hits) / n;
  }
}

double TaggingTask::majority_baseline(const std::string& split) const {
  auto it = majority_baseline_.find(split);
  return it == majority_baseline_.end() ? -1.0 : it->second;
}

double TaggingTask::word_baseline(const std::string& split) const {
  auto it = word_baseline_.find(split);
  return it == word_baseline_.end() ? -1.0 : it->second;
}

std::vector<TaggingTask::Example> TaggingTask::encode_for_prediction(
    const Tokenizer& tokenizer, const std::string& text, std::vector<std::string>& words) const {
  words = split_words(text);
  return encode(tokenizer, words, {});
}

std::string TaggingTask::baseline_note(const std::string& split) const {
  if (majority_baseline(split) < 0) return "";
  return " (majority-tag baseline " + text_util::fixed(majority_baseline(split)) +
         ", most-frequent-tag-per-word baseline " + text_util::fixed(word_baseline(split)) + ")";
}

}  // namespace lmforge
