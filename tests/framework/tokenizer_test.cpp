// The text layer: UTF-8 handling, the word and character tokenizers, vocabulary building and the
// vocabulary file.
#include "lmforge/tokenizer.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "lmforge/error.h"
#include "lmforge/text_util.h"
#include "lmforge/vocabulary.h"
#include "support/temp_dir.h"
#include "text/char_tokenizer.h"
#include "text/utf8.h"
#include "text/word_tokenizer.h"

namespace fs = std::filesystem;
using lmforge::CharTokenizer;
using lmforge::Vocabulary;
using lmforge::WordTokenizer;
using Strings = std::vector<std::string>;

namespace {

WordTokenizer word_tokenizer(bool lowercase = false, std::int64_t min_count = 1,
                             std::int64_t max_size = 0) {
  lmforge::WordTokenizerOptions options;
  options.lowercase = lowercase;
  options.vocab.min_count = min_count;
  options.vocab.max_size = max_size;
  return WordTokenizer(options, lmforge::NoContext{});
}

CharTokenizer char_tokenizer(bool lowercase = false) {
  lmforge::CharTokenizerOptions options;
  options.lowercase = lowercase;
  return CharTokenizer(options, lmforge::NoContext{});
}

Strings vocabulary_tokens(const Vocabulary& vocab) {
  Strings out;
  for (std::int64_t id = 0; id < vocab.size(); ++id) out.push_back(vocab.token(id));
  return out;
}

using lmforge::test::TempDir;

const std::string kSpecialLines = "<pad>\t0\n<unk>\t0\n<bos>\t0\n<eos>\t0\n";

// Loads `content` and returns the DataError's place (empty if loading succeeded).
std::string load_error_place(const TempDir& dir, const std::string& content,
                             std::string* what = nullptr) {
  const std::string path = dir.file("bad.vocab", content);
  try {
    Vocabulary::load(path);
  } catch (const lmforge::DataError& e) {
    if (what) *what = e.what();
    return e.place();
  }
  return "";
}

struct RecordingVisitor : lmforge::OptionVisitor, lmforge::FieldCheck {
  Strings names, constraints;
  FieldCheck& record(const char* name, const char* help) {
    names.push_back(name);
    constraints.push_back("");
    CHECK(std::string(help).size() > 10);
    return *this;
  }
  FieldCheck& positive() override { return constrain("positive"); }
  FieldCheck& non_negative() override { return constrain("non_negative"); }
  FieldCheck& range(double, double) override { return constrain("range"); }
  FieldCheck& required() override { return constrain("required"); }
  FieldCheck& constrain(const char* what) {
    constraints.back() = what;
    return *this;
  }
  FieldCheck& field(const char* n, std::int64_t&, const char* h) override { return record(n, h); }
  FieldCheck& field(const char* n, double&, const char* h) override { return record(n, h); }
  FieldCheck& field(const char* n, bool&, const char* h) override { return record(n, h); }
  FieldCheck& field(const char* n, std::string&, const char* h) override { return record(n, h); }
  FieldCheck& field(const char* n, Strings&, const char* h) override { return record(n, h); }
  FieldCheck& field(const char* n, std::vector<std::int64_t>&, const char* h) override {
    return record(n, h);
  }
  FieldCheck& choice(const char* n, std::string&, const Strings&, const char* h) override {
    return record(n, h);
  }
  FieldCheck& group(const char* n, const std::function<void(OptionVisitor&)>&,
                    const char* h) override {
    return record(n, h);
  }
  FieldCheck& component(const char* n, lmforge::ComponentSpec&, const char*,
                        const char* h) override {
    return record(n, h);
  }
};

}  // namespace

// --- UTF-8
// ----------------------------------------------------------------------------------------

TEST_CASE("utf8: well-formed text decodes to code points and encodes back", "[text][utf8]") {
  using namespace lmforge::text;
  const std::string text = "a\xC3\xA9\xED\x95\x9C\xF0\x9F\x98\x80";  // a é 한 😀 (1-4 bytes)
  const std::u32string cps = decode_utf8(text);
  REQUIRE(cps == std::u32string{U'a', U'\u00E9', U'\uD55C', U'\U0001F600'});
  CHECK(encode_utf8(cps) == text);
  CHECK(is_valid_utf8(text));
  CHECK(encode_utf8(U'\U0001F600') == "\xF0\x9F\x98\x80");
  CHECK(encode_utf8(U'\U0001F600').size() == 4);

  for (char32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    CAPTURE(cp);
    CHECK(decode_utf8(encode_utf8(cp)) == std::u32string(1, cp));
  }
}

TEST_CASE("sdk text_util: UTF-8 characters split and join back, ill-formed bytes included",
          "[text][utf8][sdk]") {
  using lmforge::text_util::utf8_characters;
  CHECK(utf8_characters("a한😀") == std::vector<std::string>{"a", "한", "😀"});
  // A truncated Korean syllable (its first two bytes) and a stray continuation byte: each is a
  // piece of its own and the valid characters around them survive whole.
  const std::string broken = std::string("x") + "\xED\x95" + "y" + "\x80" + "한";
  const auto pieces = utf8_characters(broken);
  CHECK(pieces == std::vector<std::string>{"x", "\xED\x95", "y", "\x80", "한"});
  std::string joined;
  for (const auto& piece : pieces) joined += piece;
  CHECK(joined == broken);
  std::string out;
  lmforge::text_util::append_utf8(out, U'한');
  lmforge::text_util::append_utf8(out, 0xD800);  // a surrogate is no character
  CHECK(out == "한\xEF\xBF\xBD");
}

TEST_CASE("utf8: ill-formed bytes become U+FFFD without eating valid neighbours", "[text][utf8]") {
  using namespace lmforge::text;
  const char32_t R = kReplacementChar;
  CHECK(decode_utf8("a\xFF"
                    "b") == std::u32string{U'a', R, U'b'});
  // A truncated 3-byte sequence is one replacement, and the valid character after it survives.
  CHECK(decode_utf8("\xED\x95"
                    "\xEA\xB0\x80") == std::u32string{R, U'\uAC00'});
  CHECK(decode_utf8("\xE4\xB8") == std::u32string{R});
  CHECK(decode_utf8("\xF0\x9F\x98") == std::u32string{R});        // emoji cut short at the end
  CHECK(decode_utf8("\xC0\xAF") == std::u32string{R, R});         // overlong '/'
  CHECK(decode_utf8("\xED\xA0\x80") == std::u32string{R, R, R});  // a UTF-16 surrogate
  CHECK(decode_utf8("\xF4\x90\x80\x80") == std::u32string{R, R, R, R});  // above U+10FFFF
  CHECK(decode_utf8("\x80\x80") == std::u32string{R, R});                // lone continuation bytes

  CHECK_FALSE(is_valid_utf8("a\xFF"));
  CHECK_FALSE(is_valid_utf8("\xE4\xB8"));
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("\xEF\xBF\xBD"));  // U+FFFD itself is fine

  CHECK(sanitize("ok \xED\x95\x9C") == "ok \xED\x95\x9C");
  CHECK(sanitize("x\xFFy") == "x\xEF\xBF\xBDy");
  CHECK(is_valid_utf8(sanitize("\xC3\x28\xA0\xA1\xE2\x28\xA1\xF0\x28\x8C\xBC")));

  // Values that have no UTF-8 form are encoded as U+FFFD rather than as garbage bytes.
  CHECK(encode_utf8(char32_t{0xD800}) == "\xEF\xBF\xBD");
  CHECK(encode_utf8(char32_t{0x110000}) == "\xEF\xBF\xBD");
}

TEST_CASE("utf8: character classes and lowercase", "[text][utf8]") {
  using namespace lmforge::text;
  for (char32_t cp : {U' ', U'\t', U'\n', U'\u00A0', U'\u3000', U'\u2009', U'\u202F'}) {
    CAPTURE(cp);
    CHECK(is_unicode_space(cp));
  }
  for (char32_t cp : {U'a', U'\uAC00', U'\u200B', U'\u200D'}) CHECK_FALSE(is_unicode_space(cp));

  for (char32_t cp : {U'.',      U',',      U'!',      U'?',      U'"',      U'\'',     U'(',
                      U'$',      U'\u00BF', U'\u00AB', U'\u2014', U'\u2026', U'\u201C', U'\u3001',
                      U'\u3002', U'\u300C', U'\uFF01', U'\uFF0C', U'\uFF1F', U'\uFF65'}) {
    CAPTURE(cp);
    CHECK(is_punctuation(cp));
  }
  // Letters, digits, spaces, ZWJ (inside emoji sequences) and CJK letters/numbers are not.
  for (char32_t cp : {U'a', U'Z', U'0', U' ', U'\u00E9', U'\uD55C', U'\u200D', U'\u3005', U'\u3007',
                      U'\U0001F600', U'\u00A9'}) {
    CAPTURE(cp);
    CHECK_FALSE(is_punctuation(cp));
  }

  CHECK(to_lower(U'A') == U'a');
  CHECK(to_lower(U'z') == U'z');
  CHECK(to_lower(U'\u00C9') == U'\u00E9');  // É
  CHECK(to_lower(U'\u00D7') == U'\u00D7');  // × is not a letter
  CHECK(to_lower(U'\u0100') == U'\u0101');  // Ā
  CHECK(to_lower(U'\u0141') == U'\u0142');  // Ł
  CHECK(to_lower(U'\u0178') == U'\u00FF');  // Ÿ
  CHECK(to_lower(U'\u017D') == U'\u017E');  // Ž
  CHECK(to_lower(U'\u0391') == U'\u03B1');  // Α
  CHECK(to_lower(U'\u03A3') == U'\u03C3');  // Σ
  CHECK(to_lower(U'\u0386') == U'\u03AC');  // Ά
  CHECK(to_lower(U'\u0410') == U'\u0430');  // А
  CHECK(to_lower(U'\u0401') == U'\u0451');  // Ё
  CHECK(to_lower(U'\u0462') == U'\u0463');  // Ѣ
  CHECK(to_lower(U'\u1EA0') == U'\u1EA1');  // Ạ
  CHECK(to_lower(U'\uFF21') == U'\uFF41');  // Ａ
  CHECK(to_lower(U'\uD55C') == U'\uD55C');  // 한: Hangul has no case
  CHECK(to_lower(U'\u00DF') == U'\u00DF');  // ß
}

TEST_CASE("decode_bytes: utf-8, latin-1 and cp1252", "[text][utf8]") {
  using lmforge::text::decode_bytes;
  CHECK(decode_bytes("\x85", "cp1252") == "\xE2\x80\xA6");        // …
  CHECK(decode_bytes("\x97", "windows-1252") == "\xE2\x80\x94");  // —
  CHECK(decode_bytes("\x80\x93\x94", "CP1252") == "\xE2\x82\xAC\xE2\x80\x9C\xE2\x80\x9D");
  CHECK(decode_bytes("\x81", "cp1252") == "\xEF\xBF\xBD");  // undefined in cp1252
  CHECK(decode_bytes("caf\xE9", "cp1252") == "caf\xC3\xA9");
  CHECK(decode_bytes("\xF0", "latin-1") == "\xC3\xB0");  // ð
  CHECK(decode_bytes("\xF0", "ISO-8859-1") == "\xC3\xB0");
  CHECK(decode_bytes("\x85", "latin1") == "\xC2\x85");  // latin-1 maps 0x80-0x9F to C1 controls
  CHECK(decode_bytes("\xED\x95\x9C\xFF", "utf-8") == "\xED\x95\x9C\xEF\xBF\xBD");
  CHECK(decode_bytes("\xEF\xBB\xBFhi", "utf-8-sig") == "hi");
  CHECK(decode_bytes("", "utf8").empty());

  try {
    decode_bytes("x", "ebcdic");
    FAIL("expected ConfigError");
  } catch (const lmforge::ConfigError& e) {
    CHECK(e.place() == "encoding");
    const std::string what = e.what();
    CHECK(what.find("ebcdic") != std::string::npos);
    CHECK(what.find("utf-8") != std::string::npos);
    CHECK(what.find("latin-1") != std::string::npos);
    CHECK(what.find("cp1252") != std::string::npos);
  }
}

// --- word tokenizer
// -------------------------------------------------------------------------------

TEST_CASE("word tokenizer splits on whitespace and punctuation", "[text][tokenizer]") {
  const WordTokenizer tok = word_tokenizer();
  CHECK(tok.split("Hello, world!  It's 3.5\tpm.") ==
        Strings{"Hello", ",", "world", "!", "It", "'", "s", "3", ".", "5", "pm", "."});
  CHECK(tok.split("안녕하세요, 세계!") == Strings{"안녕하세요", ",", "세계", "!"});
  CHECK(tok.split("서울은 한국의 수도이다.") == Strings{"서울은", "한국의", "수도이다", "."});
  CHECK(tok.split("「東京」、日本。") == Strings{"「", "東京", "」", "、", "日本", "。"});
  CHECK(tok.split("wait\u2026 \u201Cquoted\u201D \u2014 ok") ==
        Strings{"wait", "\u2026", "\u201C", "quoted", "\u201D", "\u2014", "ok"});
  CHECK(tok.split("a\u00A0b\u3000c") == Strings{"a", "b", "c"});
  CHECK(tok.split("").empty());
  CHECK(tok.split(" \t ").empty());
}

TEST_CASE("word tokenizer keeps specials and WikiText separators whole", "[text][tokenizer]") {
  const WordTokenizer tok = word_tokenizer();
  CHECK(tok.split(" = Valkyria Chronicles <unk> = ") ==
        Strings{"=", "Valkyria", "Chronicles", "<unk>", "="});
  CHECK(tok.split("the 2 @,@ 000 @-@ year @.@ old") ==
        Strings{"the", "2", "@,@", "000", "@-@", "year", "@.@", "old"});
  CHECK(tok.split("(<unk>)") == Strings{"(", "<unk>", ")"});
  CHECK(tok.split("end<eos>") == Strings{"end", "<eos>"});
  CHECK(tok.split("<|endoftext|>") == Strings{"<|endoftext|>"});
  // Not specials: comparisons and a lone '@' still split.
  CHECK(tok.split("a < b > c") == Strings{"a", "<", "b", ">", "c"});
  CHECK(tok.split("<3>") == Strings{"<", "3", ">"});
  CHECK(tok.split("a@b") == Strings{"a", "@", "b"});
  CHECK(tok.split("@-") == Strings{"@", "-"});
}

TEST_CASE("word tokenizer lowercases and drops control characters", "[text][tokenizer]") {
  const WordTokenizer lower = word_tokenizer(true);
  CHECK(lower.split("The ÉCOLE Ελλάδα МОСКВА 한국 <UNK>") ==
        Strings{"the", "école", "ελλάδα", "москва", "한국", "<unk>"});
  CHECK(word_tokenizer().split("The") == Strings{"The"});
  CHECK(lower.split("a\x01"
                    "b\xEF\xBB\xBF"
                    "c\r") == Strings{"a", "b", "c"});
  // An emoji ZWJ sequence stays one word.
  CHECK(lower.split("\U0001F468\u200D\U0001F469 hi") ==
        Strings{"\U0001F468\u200D\U0001F469", "hi"});
}

TEST_CASE("tokenizers never produce broken UTF-8", "[text][tokenizer]") {
  const std::string inputs[] = {
      "안녕하세요, 세계! 한국어 문장입니다.",
      "깨진\xED\x95 바이트\xFF와 잘린 \xF0\x9F\x98",
      "mixed 한글English\xE2\x80 \x80\x80 end",
  };
  const WordTokenizer word = word_tokenizer(true);
  const CharTokenizer chars = char_tokenizer(true);
  for (const std::string& input : inputs) {
    CAPTURE(input);
    for (const std::string& token : word.split(input)) {
      CHECK(lmforge::text::is_valid_utf8(token));
      CHECK_FALSE(token.empty());
    }
    for (const std::string& token : chars.split(input)) {
      CHECK(lmforge::text::is_valid_utf8(token));
      CHECK(lmforge::text::decode_utf8(token).size() == 1);
    }
  }
  CHECK(word.split("깨진\xED\x95 바이트") == Strings{"깨진\uFFFD", "바이트"});
}

TEST_CASE("word tokenizer encode/decode round trip", "[text][tokenizer]") {
  for (const std::string text :
       {"The cat sat on the mat. The dog, too!", "안녕하세요, 세계! 반가워요."}) {
    CAPTURE(text);
    WordTokenizer tok = word_tokenizer();
    tok.count(text);
    tok.build_vocabulary();
    const std::string normalised = tok.join(tok.split(text));
    CHECK(tok.decode(tok.encode(text)) == normalised);
    CHECK(tok.split(normalised) == tok.split(text));
  }
  WordTokenizer tok = word_tokenizer();
  tok.count("안녕하세요, 세계!");
  tok.build_vocabulary();
  CHECK(tok.decode(tok.encode("안녕하세요, 세계!")) == "안녕하세요 , 세계 !");
}

// --- character tokenizer
// --------------------------------------------------------------------------

TEST_CASE("char tokenizer splits into code points, spaces included", "[text][tokenizer]") {
  const CharTokenizer tok = char_tokenizer();
  CHECK(tok.split("Hi 세계!") == Strings{"H", "i", " ", "세", "계", "!"});
  CHECK(tok.split("\U0001F600a") == Strings{"\U0001F600", "a"});
  CHECK(tok.split("a\tb") == Strings{"a", "\t", "b"});
  CHECK(char_tokenizer(true).split("ÀB") == Strings{"à", "b"});
  CHECK(tok.split("").empty());
  CHECK(tok.join({"세", " ", "a"}) == "세 a");
}

TEST_CASE("char tokenizer encode/decode round trip is exact", "[text][tokenizer]") {
  for (const std::string text : {"The cat sat.  Twice!", "안녕하세요, 세계! 😀 끝"}) {
    CAPTURE(text);
    CharTokenizer tok = char_tokenizer();
    tok.count(text);
    tok.build_vocabulary();
    CHECK(tok.decode(tok.encode(text)) == text);
  }
  CharTokenizer lower = char_tokenizer(true);
  lower.count("ABC 한국");
  lower.build_vocabulary();
  CHECK(lower.decode(lower.encode("ABC 한국")) == "abc 한국");
}

// --- vocabulary building
// --------------------------------------------------------------------------

TEST_CASE("vocabulary starts with the specials", "[text][vocabulary]") {
  const Vocabulary vocab;
  CHECK(vocabulary_tokens(vocab) == Strings{"<pad>", "<unk>", "<bos>", "<eos>"});
  CHECK(vocab.id("<pad>") == Vocabulary::kPad);
  CHECK(vocab.id("<unk>") == Vocabulary::kUnk);
  CHECK(vocab.id("<bos>") == Vocabulary::kBos);
  CHECK(vocab.id("<eos>") == Vocabulary::kEos);
  CHECK(vocab.id("missing") == Vocabulary::kUnk);
  CHECK_FALSE(vocab.contains("missing"));
  CHECK(vocab.counts() == std::vector<std::int64_t>{0, 0, 0, 0});
  CHECK_THROWS_AS(vocab.token(4), lmforge::Error);
  CHECK_THROWS_AS(vocab.token(-1), lmforge::Error);

  Vocabulary grown;
  CHECK(grown.add("word") == 4);
  CHECK(grown.add("word") == 4);
  CHECK(grown.add("<eos>") == Vocabulary::kEos);
  CHECK(grown.size() == 5);
  grown.set_count(4, 7);
  CHECK(grown.counts()[4] == 7);
  CHECK_THROWS_AS(grown.set_count(4, -1), lmforge::Error);
  CHECK_THROWS_AS(grown.add(""), lmforge::Error);
  CHECK_THROWS_AS(grown.add("bad\xFF"), lmforge::Error);
}

TEST_CASE("build_vocabulary orders by count, ties by first appearance", "[text][vocabulary]") {
  WordTokenizer tok = word_tokenizer();
  tok.count("b a c a");
  tok.count("c d e");
  tok.build_vocabulary();
  // a and c twice (a seen first), then b, d, e once in order of appearance.
  CHECK(vocabulary_tokens(tok.vocabulary()) ==
        Strings{"<pad>", "<unk>", "<bos>", "<eos>", "a", "c", "b", "d", "e"});
  CHECK(tok.vocabulary().counts() == std::vector<std::int64_t>{0, 0, 0, 0, 2, 2, 1, 1, 1});

  // Building twice from the same counts gives the same vocabulary.
  const Vocabulary first = tok.vocabulary();
  tok.build_vocabulary();
  CHECK(tok.vocabulary() == first);
}

TEST_CASE("min_count and max_size: dropped tokens become <unk>", "[text][vocabulary]") {
  const std::string corpus[] = {"x y y z z z", "w w w w z"};

  WordTokenizer min2 = word_tokenizer(false, 2);
  for (const auto& line : corpus) min2.count(line);
  min2.build_vocabulary();
  CHECK(vocabulary_tokens(min2.vocabulary()) ==
        Strings{"<pad>", "<unk>", "<bos>", "<eos>", "z", "w", "y"});
  CHECK(min2.vocabulary().counts()[Vocabulary::kUnk] == 1);  // the single x
  CHECK(min2.encode("x y q") == std::vector<std::int64_t>{Vocabulary::kUnk, 6, Vocabulary::kUnk});
  CHECK(min2.decode(min2.encode("x y q")) == "<unk> y <unk>");

  WordTokenizer top2 = word_tokenizer(false, 1, 2);
  for (const auto& line : corpus) top2.count(line);
  top2.build_vocabulary();
  CHECK(vocabulary_tokens(top2.vocabulary()) ==
        Strings{"<pad>", "<unk>", "<bos>", "<eos>", "z", "w"});
  CHECK(top2.vocabulary().counts()[Vocabulary::kUnk] == 3);  // x + y + y

  WordTokenizer none = word_tokenizer(false, 100);
  for (const auto& line : corpus) none.count(line);
  none.build_vocabulary();
  CHECK(none.vocabulary().size() == 4);  // specials are always there

  WordTokenizer bad = word_tokenizer(false, 0);
  CHECK_THROWS_AS(bad.build_vocabulary(), lmforge::ConfigError);
}

TEST_CASE("specials written in the corpus keep their ids", "[text][vocabulary]") {
  WordTokenizer tok = word_tokenizer();
  tok.count("the <unk> sat <eos>");
  tok.count("the <unk>");
  tok.build_vocabulary();
  const Vocabulary& vocab = tok.vocabulary();
  CHECK(vocabulary_tokens(vocab) == Strings{"<pad>", "<unk>", "<bos>", "<eos>", "the", "sat"});
  CHECK(vocab.counts()[Vocabulary::kUnk] == 2);
  CHECK(vocab.counts()[Vocabulary::kEos] == 1);
  CHECK(tok.encode("the <unk>") == std::vector<std::int64_t>{4, Vocabulary::kUnk});
}

TEST_CASE("decode drops <pad>, <bos> and <eos>", "[text][vocabulary]") {
  WordTokenizer tok = word_tokenizer();
  tok.count("hello world");
  tok.build_vocabulary();
  const std::vector<std::int64_t> ids = {Vocabulary::kBos, 4, Vocabulary::kUnk, 5, Vocabulary::kEos,
                                         Vocabulary::kPad};
  CHECK(tok.decode(ids) == "hello <unk> world");
  CHECK_THROWS_AS(tok.decode({99}), lmforge::Error);
}

TEST_CASE("options declare their fields", "[text][options]") {
  RecordingVisitor v;
  lmforge::WordTokenizerOptions options;
  options.visit(v);
  CHECK(v.names == Strings{"split", "lowercase", "normalize", "stopwords", "stem", "lemma",
                           "min_count", "max_size"});
  CHECK(v.constraints == Strings{"", "", "", "", "", "", "positive", "non_negative"});

  RecordingVisitor c;
  lmforge::CharTokenizerOptions char_options;
  char_options.visit(c);
  CHECK(c.names == Strings{"lowercase", "min_count", "max_size"});
}

// --- vocabulary file
// ------------------------------------------------------------------------------

TEST_CASE("vocabulary save/load round trip", "[text][vocabulary][io]") {
  TempDir dir;
  Vocabulary vocab;
  for (const char* token :
       {"the", "안녕하세요", "\U0001F600", " ", "\t", "a\\tb", "\\", "x\ny\r"}) {
    vocab.set_count(vocab.add(token), static_cast<std::int64_t>(vocab.size()) * 10);
  }
  vocab.set_count(Vocabulary::kUnk, 5);
  const std::string path = (dir.path / "vocab.txt").string();
  vocab.save(path);

  const Vocabulary loaded = Vocabulary::load(path);
  CHECK(loaded == vocab);
  CHECK(vocabulary_tokens(loaded) == vocabulary_tokens(vocab));
  CHECK(loaded.counts() == vocab.counts());
  CHECK(loaded.id("안녕하세요") == 5);
  CHECK(loaded.id("\t") == 8);

  // One line per token, and raw tabs only as separators.
  std::ifstream in(path, std::ios::binary);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    CHECK(std::count(line.begin(), line.end(), '\t') == 1);
  }
  CHECK(lines == vocab.size());

  // A tokenizer given the loaded vocabulary encodes like the one that built it.
  WordTokenizer built = word_tokenizer();
  built.count("다시 만나요 again");
  built.build_vocabulary();
  built.vocabulary().save(path);
  WordTokenizer reused = word_tokenizer();
  reused.set_vocabulary(Vocabulary::load(path));
  CHECK(reused.encode("만나요 again 다시 new") == built.encode("만나요 again 다시 new"));
}

TEST_CASE("malformed vocabulary files name path and line", "[text][vocabulary][io]") {
  TempDir dir;
  const std::string path = (dir.path / "bad.vocab").string();
  std::string what;

  CHECK(load_error_place(dir, kSpecialLines + "good\t3\nno-tab-here\n", &what) == path + ":6");
  CHECK(what.find(path + ":6") != std::string::npos);
  CHECK(what.find("tab") != std::string::npos);

  CHECK(load_error_place(dir, kSpecialLines + "word\tmany\n") == path + ":5");
  CHECK(load_error_place(dir, kSpecialLines + "word\t-3\n") == path + ":5");
  CHECK(load_error_place(dir, kSpecialLines + "word\t99999999999999999999\n") == path + ":5");
  CHECK(load_error_place(dir, kSpecialLines + "a\tb\t3\n") == path + ":5");
  CHECK(load_error_place(dir, kSpecialLines + "\t3\n") == path + ":5");
  CHECK(load_error_place(dir, kSpecialLines + "bad\\q\t3\n") == path + ":5");
  CHECK(load_error_place(dir, kSpecialLines + "bad\xFF\t3\n") == path + ":5");
  CHECK(load_error_place(dir, kSpecialLines + "w\t1\n\nv\t1\n") == path + ":6");
  CHECK(load_error_place(dir, kSpecialLines + "w\t1\nx\t1\nw\t2\n", &what) == path + ":7");
  CHECK(what.find("twice") != std::string::npos);

  // The specials must come first, in order.
  CHECK(load_error_place(dir, "<unk>\t0\n<pad>\t0\n<bos>\t0\n<eos>\t0\n") == path + ":1");
  CHECK(load_error_place(dir, "<pad>\t0\n<unk>\t0\nword\t1\n<eos>\t0\n", &what) == path + ":3");
  CHECK(what.find("<bos>") != std::string::npos);
  CHECK(load_error_place(dir, "<pad>\t0\n<unk>\t0\n") == path + ":3");
  CHECK(load_error_place(dir, "") == path + ":1");

  // Tolerated: CRLF endings, a byte-order mark, no final newline.
  CHECK(load_error_place(dir, "\xEF\xBB\xBF<pad>\t0\r\n<unk>\t0\r\n<bos>\t0\r\n<eos>\t0\r\nw\t1")
            .empty());
  const Vocabulary crlf = Vocabulary::load(path);
  CHECK(crlf.size() == 5);
  CHECK(crlf.token(4) == "w");

  CHECK_THROWS_AS(Vocabulary::load((dir.path / "missing.vocab").string()), lmforge::DataError);
}
