#include "data/toy_grammar.h"

#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>
#include <vector>

#include "io/atomic_file.h"

namespace lmforge {
namespace {

// A deterministic finite-state grammar: sibling states emit disjoint words, so the state sequence
// is known from the words and the only hidden variable is the sentence's sentiment. That makes
// the exact probability of every token given its history computable (a two-hypothesis filter).
enum StateId { kStart, kDet, kAdj, kNoun, kVerb, kAdv, kEval, kConj, kEnd, kStates };

struct Emission {
  std::vector<std::string> words;
  std::vector<double> positive;  // P(word | state, positive)
  std::vector<double> negative;  // P(word | state, negative)
};

struct Grammar {
  std::vector<std::vector<std::pair<StateId, double>>> next{kStates};
  std::vector<Emission> emit{kStates};

  Grammar() {
    next[kStart] = {{kDet, 1.0}};
    next[kDet] = {{kAdj, 0.45}, {kNoun, 0.55}};
    next[kAdj] = {{kAdj, 0.25}, {kNoun, 0.75}};
    next[kNoun] = {{kVerb, 1.0}};
    next[kVerb] = {{kAdv, 0.4}, {kEval, 0.6}};
    next[kAdv] = {{kEval, 1.0}};
    next[kEval] = {{kEnd, 0.7}, {kConj, 0.3}};
    next[kConj] = {{kEval, 1.0}};
    auto flat = [](std::vector<std::string> words) {
      std::vector<double> p(words.size(), 1.0 / words.size());
      return Emission{words, p, p};
    };
    emit[kDet] = flat({"the", "this", "that", "a"});
    emit[kAdj] = Emission{{"new", "long", "french", "old", "quiet", "loud", "cheap", "lavish"},
                          {0.2, 0.05, 0.2, 0.15, 0.15, 0.05, 0.05, 0.15},
                          {0.1, 0.25, 0.05, 0.1, 0.05, 0.2, 0.2, 0.05}};
    emit[kNoun] = flat({"movie", "film", "story", "plot", "cast", "ending", "script", "score"});
    emit[kVerb] = flat({"was", "felt", "seemed", "is"});
    emit[kAdv] = Emission{{"truly", "really", "so", "barely", "rather"},
                          {0.35, 0.3, 0.25, 0.02, 0.08},
                          {0.05, 0.2, 0.25, 0.3, 0.2}};
    // Forty evaluative words, half leaning each way, so a few labelled sentences cannot show
    // every word with its sentiment: a classifier must learn most of them from how they
    // co-occur in unlabelled text (pre-training), which is the point the quickstart makes.
    const std::vector<std::string> praise = {
        "great",    "wonderful", "charming", "brilliant", "moving",  "superb",    "delightful",
        "gripping", "stunning",  "witty",    "tender",    "clever",  "beautiful", "fresh",
        "powerful", "touching",  "funny",    "inventive", "elegant", "thrilling"};
    const std::vector<std::string> blame = {
        "boring", "awful",   "dull",     "clumsy",      "tedious",   "bland",       "messy",
        "silly",  "shallow", "lifeless", "flat",        "tired",     "predictable", "weak",
        "hollow", "sloppy",  "stale",    "forgettable", "pointless", "grating"};
    Emission eval;
    auto add = [&](const std::vector<std::string>& words, double if_positive, double if_negative) {
      for (const auto& w : words) {
        eval.words.push_back(w);
        eval.positive.push_back(if_positive / static_cast<double>(words.size()));
        eval.negative.push_back(if_negative / static_cast<double>(words.size()));
      }
    };
    add(praise, 0.85, 0.10);
    add(blame, 0.10, 0.85);
    add({"fine"}, 0.05, 0.05);
    emit[kEval] = eval;
    emit[kConj] = Emission{{"and", "but"}, {0.8, 0.2}, {0.6, 0.4}};
  }
};

struct Sentence {
  std::vector<std::string> words;
  int label = 0;        // 1 = positive
  double nats = 0;      // -log p(words + <eos> | true model, marginal over the label)
  int bayes_guess = 0;  // most probable label given the words
};

Sentence sample(const Grammar& g, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Sentence s;
  s.label = uniform(rng) < 0.5 ? 1 : 0;
  double post_pos = 0.5, post_neg = 0.5;  // filter over the hidden label
  StateId state = kStart;
  while (true) {
    // Choose the next state, then the word it emits.
    const auto& options = g.next[state];
    double r = uniform(rng), acc = 0;
    StateId chosen = options.back().first;
    double p_transition = options.back().second;
    for (const auto& [candidate, p] : options) {
      acc += p;
      if (r < acc) {
        chosen = candidate;
        p_transition = p;
        break;
      }
    }
    state = chosen;
    if (state == kEnd) {
      s.nats += -std::log(p_transition);  // <eos>
      break;
    }
    const Emission& e = g.emit[state];
    const auto& probs = s.label ? e.positive : e.negative;
    std::discrete_distribution<std::size_t> pick(probs.begin(), probs.end());
    std::size_t w = pick(rng);
    double p_pos = e.positive[w], p_neg = e.negative[w];
    s.nats += -std::log(p_transition * (post_pos * p_pos + post_neg * p_neg));
    double z = post_pos * p_pos + post_neg * p_neg;
    post_pos = post_pos * p_pos / z;
    post_neg = post_neg * p_neg / z;
    s.words.push_back(e.words[w]);
  }
  s.bayes_guess = post_pos >= post_neg ? 1 : 0;
  return s;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

ToyGrammarReport write_toy_grammar(const std::string& directory, std::int64_t sentences,
                                   std::uint64_t seed, double labelled_fraction) {
  namespace fs = std::filesystem;
  fs::create_directories(fs::path(directory) / "labelled");
  Grammar grammar;
  std::mt19937_64 rng(seed);
  ToyGrammarReport report;
  const std::int64_t held_out = std::max<std::int64_t>(200, sentences / 10);
  struct Split {
    const char* name;
    std::int64_t count;
  };
  for (const Split& split :
       {Split{"train", sentences}, Split{"valid", held_out}, Split{"test", held_out}}) {
    std::ostringstream text, labelled;
    double nats = 0;
    std::int64_t tokens = 0, correct = 0, labelled_count = 0;
    bool is_train = std::string(split.name) == "train";
    std::int64_t keep_labels =
        is_train ? static_cast<std::int64_t>(labelled_fraction * split.count) : split.count;
    for (std::int64_t i = 0; i < split.count; ++i) {
      Sentence s = sample(grammar, rng);
      std::string line = join(s.words);
      text << line << "\n";
      nats += s.nats;
      tokens += static_cast<std::int64_t>(s.words.size()) + 1;
      if (i < keep_labels) {
        labelled << (s.label ? "positive" : "negative") << "\t" << line << "\n";
        correct += s.bayes_guess == s.label;
        ++labelled_count;
      }
    }
    io::write_text_atomically((fs::path(directory) / (std::string(split.name) + ".txt")).string(),
                              text.str());
    io::write_text_atomically(
        (fs::path(directory) / "labelled" / (std::string(split.name) + ".tsv")).string(),
        labelled.str());
    if (is_train) report.train_tokens = tokens;
    if (std::string(split.name) == "test") {
      report.test_nats_per_token = nats / static_cast<double>(tokens);
      report.bayes_accuracy = static_cast<double>(correct) / static_cast<double>(labelled_count);
    }
  }
  std::ostringstream json;
  json.precision(8);
  json << "{\"test_nats_per_token\": " << report.test_nats_per_token
       << ", \"bayes_accuracy\": " << report.bayes_accuracy
       << ", \"train_tokens\": " << report.train_tokens << "}\n";
  io::write_text_atomically((fs::path(directory) / "reference.json").string(), json.str());
  return report;
}

}  // namespace lmforge
