#include "text/stopwords.h"

#include <sstream>

namespace lmforge::text {
namespace {

// Function words: articles, pronouns, auxiliaries, prepositions, conjunctions and the commonest
// adverbs. Negations (no, not, nor) are left out on purpose: a sentiment classifier needs them.
const std::unordered_set<std::string> kEnglish{
    "a",         "an",      "the",     "this",    "that",     "these",      "those",   "i",
    "me",        "my",      "mine",    "myself",  "we",       "us",         "our",     "ours",
    "ourselves", "you",     "your",    "yours",   "yourself", "yourselves", "he",      "him",
    "his",       "himself", "she",     "her",     "hers",     "herself",    "it",      "its",
    "itself",    "they",    "them",    "their",   "theirs",   "themselves", "what",    "which",
    "who",       "whom",    "whose",   "am",      "is",       "are",        "was",     "were",
    "be",        "been",    "being",   "have",    "has",      "had",        "having",  "do",
    "does",      "did",     "doing",   "will",    "would",    "shall",      "should",  "can",
    "could",     "may",     "might",   "must",    "and",      "but",        "or",      "if",
    "because",   "as",      "until",   "while",   "of",       "at",         "by",      "for",
    "with",      "about",   "against", "between", "into",     "through",    "during",  "before",
    "after",     "above",   "below",   "to",      "from",     "up",         "down",    "in",
    "out",       "on",      "off",     "over",    "under",    "again",      "further", "then",
    "once",      "here",    "there",   "when",    "where",    "why",        "how",     "all",
    "any",       "both",    "each",    "few",     "more",     "most",       "other",   "some",
    "such",      "only",    "own",     "same",    "so",       "than",       "too",     "very",
    "just",      "also",    "s",       "t",       "'s",       "'re",        "'ve",     "'d",
    "'ll",       "'m"};

// Korean words that stand alone between spaces and carry little content: conjunctions,
// demonstratives, pronouns, dependent nouns and neutral adverbs; then the commonest particles and
// light verbs, which only match text already split into morphemes (in running text they are
// attached to words). Intensifiers (정말, 너무) and negation (않다, 안) stay: sentiment needs them.
const std::unordered_set<std::string> kKorean{
    "그리고", "그러나", "하지만", "그런데", "그래서", "그러므로", "또는", "또한", "및",   "즉",
    "혹은",   "이",     "그",     "저",     "이것",   "그것",     "저것", "것",   "수",   "등",
    "때",     "곳",     "중",     "더",     "좀",     "잘",       "또",   "다",   "이런", "그런",
    "저런",   "어떤",   "무슨",   "여기",   "거기",   "저기",     "우리", "저희", "나",   "너",
    "그녀",   "그들",   "제",     "내",     "이제",   "바로",     "다시", "아주", "매우", "의",
    "에",     "를",     "을",     "은",     "는",     "가",       "도",   "로",   "으로", "에서",
    "와",     "과",     "한",     "하다",   "있다",   "되다",     "같다"};

}  // namespace

const std::unordered_set<std::string>* builtin_stopwords(const std::string& name) {
  if (name == "english") return &kEnglish;
  if (name == "korean") return &kKorean;
  return nullptr;
}

std::unordered_set<std::string> parse_stopwords(const std::string& content) {
  std::unordered_set<std::string> words;
  std::istringstream lines(content);
  std::string line;
  const char* kSpace = " \t\r\n\f\v";
  while (std::getline(lines, line)) {
    const auto begin = line.find_first_not_of(kSpace);
    if (begin == std::string::npos || line[begin] == '#') continue;
    const auto end = line.find_last_not_of(kSpace);
    words.insert(line.substr(begin, end - begin + 1));
  }
  return words;
}

}  // namespace lmforge::text
