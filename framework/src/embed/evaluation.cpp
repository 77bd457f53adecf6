// The standard intrinsic evaluations, with gensim's semantics so that numbers can be compared:
// KeyedVectors.evaluate_word_analogies (3CosAdd, case-insensitive, restricted vocabulary) and
// evaluate_word_pairs (Spearman's rho with average ranks, case-insensitive).
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "embed/embed_internal.h"
#include "lmforge/embeddings.h"
#include "lmforge/error.h"

namespace lmforge {
namespace {

using embed::fold_case;
using embed::kFirstWord;

// gensim looks at the five best answers and takes the first that is not a case variant of a
// question word; beyond five it gives up, and so must we to count the same questions as right.
constexpr std::int64_t kAnalogyCandidates = 5;

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_whitespace(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_ascii_space(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !is_ascii_space(s[j])) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string> split_on(std::string_view s, char separator) {
  std::vector<std::string> out;
  for (;;) {
    const std::size_t cut = s.find(separator);
    out.emplace_back(trim(s.substr(0, cut)));
    if (cut == std::string_view::npos) return out;
    s.remove_prefix(cut + 1);
  }
}

bool parse_double(std::string_view text, double& value) {
  auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && result.ec == std::errc() && result.ptr == text.data() + text.size();
}

// Lines of a UTF-8 text file without a byte-order mark or Windows line endings.
class LineReader {
 public:
  LineReader(const std::string& path, const char* what) : path_(path), in_(path, std::ios::binary) {
    if (!in_)
      throw DataError(path, std::string("cannot open ") + what + ": " + std::strerror(errno));
  }
  bool next(std::string& line) {
    if (!std::getline(in_, line)) return false;
    if (++number_ == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }
  std::string place() const { return path_ + ":" + std::to_string(number_); }

 private:
  std::string path_;
  std::ifstream in_;
  std::int64_t number_ = 0;
};

// Case-folded word -> id among ids [kFirstWord, end); the most frequent case variant wins, as in
// gensim's ok_vocab.
std::unordered_map<std::string, std::int64_t> folded_index(const Vocabulary& vocabulary,
                                                           std::int64_t end) {
  std::unordered_map<std::string, std::int64_t> index;
  index.reserve(static_cast<std::size_t>(std::max<std::int64_t>(0, end - kFirstWord)));
  for (std::int64_t id = kFirstWord; id < end; ++id) {
    index.emplace(fold_case(vocabulary.token(id)), id);
  }
  return index;
}

}  // namespace

AnalogyResult WordVectors::evaluate_analogies(const std::string& path,
                                              std::int64_t restrict_vocab) const {
  torch::NoGradGuard no_grad;
  if (restrict_vocab < 0) {
    throw ConfigError("embed", "restrict_vocab must be >= 0 (0 = all words)");
  }
  const std::int64_t end = embed::frequent_end(vocabulary_, restrict_vocab);
  const auto index = folded_index(vocabulary_, end);

  struct Question {
    std::int64_t a, b, c;  // ids of the most frequent case variants
    std::string folded[4];
    std::size_t section;
  };
  std::vector<Question> questions;
  AnalogyResult result;
  std::vector<std::string> names;  // section of each index, in file order (names may repeat)
  LineReader reader(path, "analogy file");
  std::string line;
  while (reader.next(line)) {
    std::string_view text = trim(line);
    if (text.empty()) continue;
    if (text.front() == ':') {
      while (!text.empty() && (text.front() == ':' || is_ascii_space(text.front()))) {
        text.remove_prefix(1);
      }
      if (text.empty()) throw DataError(reader.place(), "section header without a name");
      names.emplace_back(text);
      if (!result.sections.count(names.back())) {
        result.sections[names.back()] = {0, 0};
        result.section_order.push_back(names.back());
      }
      continue;
    }
    if (names.empty()) {
      throw DataError(reader.place(),
                      "question before the first `: section` line; is this a questions-words "
                      "file?");
    }
    std::vector<std::string> words = split_whitespace(text);
    if (words.size() != 4) {
      throw DataError(reader.place(),
                      "expected four words `a b c d` (a is to b as c is to d) or "
                      "a `: section` line, got " +
                          std::to_string(words.size()) + " words");
    }
    Question q;
    q.section = names.size() - 1;
    bool known = true;
    std::int64_t ids[4];
    for (int i = 0; i < 4; ++i) {
      q.folded[i] = fold_case(words[static_cast<std::size_t>(i)]);
      auto it = index.find(q.folded[i]);
      known = known && it != index.end();
      ids[i] = known ? it->second : -1;
    }
    if (!known) {
      ++result.skipped;
      continue;
    }
    q.a = ids[0];
    q.b = ids[1];
    q.c = ids[2];
    questions.push_back(std::move(q));
  }
  if (result.sections.empty()) throw DataError(path, "no `: section` line and no questions");

  // Scores go in batches sized so that one [batch, N] score matrix stays near 32 MiB.
  const std::int64_t pool_size = end - kFirstWord;
  torch::Tensor pool = unit_.slice(0, kFirstWord, end);
  const std::int64_t batch = std::max<std::int64_t>(
      1, std::min<std::int64_t>(1024, (8 << 20) / std::max<std::int64_t>(1, pool_size)));
  const std::int64_t take = std::min(pool_size, kAnalogyCandidates + 3);
  for (std::size_t start = 0; start < questions.size(); start += static_cast<std::size_t>(batch)) {
    const std::size_t stop = std::min(questions.size(), start + static_cast<std::size_t>(batch));
    std::vector<std::int64_t> a, b, c;
    for (std::size_t i = start; i < stop; ++i) {
      a.push_back(questions[i].a - kFirstWord);
      b.push_back(questions[i].b - kFirstWord);
      c.push_back(questions[i].c - kFirstWord);
    }
    auto rows = [&](const std::vector<std::int64_t>& ids) {
      return pool.index_select(0, torch::tensor(ids, torch::kLong));
    };
    // Normalising the target would not change any ranking, so it is skipped.
    torch::Tensor target = rows(b) - rows(a) + rows(c);
    torch::Tensor best = std::get<1>(target.mm(pool.t()).topk(take, 1));
    auto top = best.accessor<std::int64_t, 2>();
    for (std::size_t i = start; i < stop; ++i) {
      const Question& q = questions[i];
      const std::int64_t r = static_cast<std::int64_t>(i - start);
      std::string predicted;
      std::int64_t seen = 0;
      for (std::int64_t j = 0; j < take && seen < kAnalogyCandidates; ++j) {
        const std::int64_t id = top[r][j] + kFirstWord;
        if (id == q.a || id == q.b || id == q.c) continue;
        ++seen;
        predicted = fold_case(vocabulary_.token(id));
        if (predicted != q.folded[0] && predicted != q.folded[1] && predicted != q.folded[2]) {
          break;
        }
      }
      auto& section = result.sections[names[q.section]];
      ++section.second;
      ++result.total;
      if (predicted == q.folded[3]) {
        ++section.first;
        ++result.correct;
      }
    }
  }
  return result;
}

SimilarityResult WordVectors::evaluate_similarity(const std::string& path) const {
  torch::NoGradGuard no_grad;
  const auto index = folded_index(vocabulary_, vocabulary_.size());
  std::vector<double> gold;
  std::vector<std::int64_t> left, right;
  SimilarityResult result;
  std::size_t score_column = 2;
  bool first = true;
  LineReader reader(path, "similarity file");
  std::string line;
  while (reader.next(line)) {
    std::string_view text = trim(line);
    if (text.empty() || text.front() == '#') continue;
    std::vector<std::string> fields =
        text.find('\t') != std::string_view::npos  ? split_on(text, '\t')
        : text.find(',') != std::string_view::npos ? split_on(text, ',')
                                                   : split_whitespace(text);
    const bool header = first;
    first = false;
    double score = 0;
    if (fields.size() < 3 || fields.size() <= score_column ||
        !parse_double(fields[score_column], score)) {
      if (header && fields.size() >= 3) {
        // The original SimLex-999 file puts its score in a column named SimLex999, after POS.
        // (Its last column, "SD(SimLex)", also names SimLex: the first match is the score.)
        for (std::size_t i = fields.size(); i-- > 0;) {
          if (fold_case(fields[i]).find("simlex") != std::string::npos) score_column = i;
        }
        continue;
      }
      throw DataError(reader.place(),
                      "expected `word1 word2 score` (tab, comma or space separated), got '" +
                          std::string(text) + "'");
    }
    auto a = index.find(fold_case(fields[0]));
    auto b = index.find(fold_case(fields[1]));
    if (a == index.end() || b == index.end()) {
      ++result.skipped;
      continue;
    }
    gold.push_back(score);
    left.push_back(a->second);
    right.push_back(b->second);
  }
  if (gold.empty() && result.skipped == 0) throw DataError(path, "no word pairs found");
  result.pairs = static_cast<std::int64_t>(gold.size());
  std::vector<double> model;
  if (!gold.empty()) {
    torch::Tensor cosine = (unit_.index_select(0, torch::tensor(left, torch::kLong)) *
                            unit_.index_select(0, torch::tensor(right, torch::kLong)))
                               .sum(1)
                               .contiguous();
    model.assign(cosine.data_ptr<float>(), cosine.data_ptr<float>() + cosine.numel());
  }
  result.spearman = embed::spearman_correlation(gold, model);
  result.pearson = embed::pearson_correlation(gold, model);
  return result;
}

}  // namespace lmforge
