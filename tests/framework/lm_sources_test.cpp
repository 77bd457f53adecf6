// Where the language-modelling task reads its text: globs of files, the text column of a
// labelled data set (LM fine-tuning on a classification set), and random windows (nanoGPT).
#include <torch/torch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "heads/lm/lm_head.h"
#include "lmforge/error.h"
#include "support/small_lstm.h"
#include "support/temp_dir.h"
#include "tasks/language_modeling/language_modeling_task.h"
#include "text/char_tokenizer.h"
#include "text/word_tokenizer.h"

using lmforge::LanguageModelingOptions;
using lmforge::LanguageModelingTask;
using lmforge::test::TempDir;

namespace {

lmforge::TaskContext context(std::int64_t batch_size) {
  lmforge::TaskContext c;
  c.place = "recipe.yaml:5:5";
  c.batch_size = batch_size;
  return c;
}

/// The vocabulary the task fits on its training text (specials excluded).
std::vector<std::string> fitted_words(const LanguageModelingOptions& options) {
  LanguageModelingTask task(options, context(1));
  lmforge::WordTokenizer tokenizer(lmforge::WordTokenizerOptions{}, lmforge::NoContext{});
  task.prepare(tokenizer, true);
  std::vector<std::string> words;
  for (std::int64_t id = 4; id < tokenizer.vocabulary().size(); ++id) {
    words.push_back(tokenizer.vocabulary().token(id));
  }
  std::sort(words.begin(), words.end());
  return words;
}

}  // namespace

TEST_CASE("language modelling reads a glob of files, and an empty glob names the option",
          "[task][lm]") {
  TempDir dir;
  dir.file("books/a.txt", "alpha beta\n");
  dir.file("books/b.txt", "gamma delta\n");
  dir.file("books/notes.md", "omega\n");
  LanguageModelingOptions options;
  options.train = dir.str("books") + "/*.txt";
  CHECK(fitted_words(options) == std::vector<std::string>{"alpha", "beta", "delta", "gamma"});

  options.train = dir.str("books") + "/*.csv";
  try {
    fitted_words(options);
    FAIL("an empty glob was accepted");
  } catch (const lmforge::DataError& e) {
    CHECK_THAT(e.what(), Catch::Contains("train: no file matches"));
  }
}

TEST_CASE("language modelling reads only the text of a labelled data set", "[task][lm]") {
  TempDir dir;
  LanguageModelingOptions options;
  options.format = "trec";
  options.train = dir.file("trec.label", "DESC:manner how do bees fly ?\nHUM:ind who wrote it ?\n");
  CHECK(fitted_words(options) ==
        std::vector<std::string>{"?", "bees", "do", "fly", "how", "it", "who", "wrote"});

  options.format = "tsv";
  options.header = true;
  options.text_column = 1;
  options.train = dir.file("reviews.tsv", "id\tdocument\tlabel\n7\t정말 좋다\t1\n8\t별로\t0\n");
  CHECK(fitted_words(options) == std::vector<std::string>{"별로", "정말", "좋다"});
}

TEST_CASE("random windows read batch_size windows of bptt+1 consecutive tokens", "[task][lm]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "w" + std::to_string(i) + " ";
  LanguageModelingOptions options;
  options.train = dir.file("train.txt", text + "\n");
  options.bptt = 6;
  options.windows = "random";
  LanguageModelingTask task(options, context(3));
  lmforge::WordTokenizer tokenizer(lmforge::WordTokenizerOptions{}, lmforge::NoContext{});
  task.prepare(tokenizer, true);

  // A backbone that hands the ids through, and a head whose loss checks each target is the
  // input's next token (ids of w0..w199 are consecutive in first-seen order).
  struct PassThrough : lmforge::Backbone {
    lmforge::Features forward(const lmforge::BackboneInput& input) override {
      CHECK(input.state.empty());  // nothing carried between random windows
      return {input.tokens.unsqueeze(-1).to(torch::kFloat), {}, {}};
    }
    std::int64_t output_size() const override { return 1; }
    torch::Tensor input_embedding() override { return {}; }
    std::vector<std::vector<torch::Tensor>> layer_groups() override { return {}; }
  };
  struct NextTokenCheck : lmforge::Head {
    torch::Tensor bias = register_parameter("bias", torch::zeros({1}));
    torch::Tensor last_inputs;
    torch::Tensor forward(const lmforge::Features& f) override { return f.sequence; }
    torch::Tensor loss(const torch::Tensor& inputs, const torch::Tensor& targets) override {
      CHECK(targets.sizes() == torch::IntArrayRef({3, 6}));
      // w0..w199 have ids 4..203 in order; the line's <eos> (3) follows w199.
      auto ids = inputs.squeeze(-1).to(torch::kLong);
      last_inputs = ids;
      CHECK(torch::equal(targets, torch::where(ids == 203, torch::full_like(ids, 3), ids + 1)));
      return bias.sum();
    }
  };
  auto head = std::make_shared<NextTokenCheck>();
  lmforge::Model model(std::make_shared<PassThrough>(), head);
  auto windows_for_seed = [&](std::uint64_t seed) {
    torch::manual_seed(seed);
    task.train_step(model, 0);
    return head->last_inputs.clone();
  };
  const auto first = windows_for_seed(5);
  // The default generator draws the offsets: the same seed gives the same windows (so a resume
  // that restores the generator is exact), another seed other windows (contiguous streams would
  // give step 0 the same rows whatever the seed).
  CHECK(torch::equal(windows_for_seed(5), first));
  CHECK_FALSE(torch::equal(windows_for_seed(6), first));
}

TEST_CASE("language modelling task: bits per character follow the text, not the tokens",
          "[task][lm]") {
  TempDir dir;
  LanguageModelingOptions options;
  options.train = dir.file("train.txt", "abcab cabca\nbcabc\nab ba ab\n");
  options.valid = dir.file("valid.txt", "cab abc\nba\n");
  options.bptt = 4;
  options.eval_batch_size = 2;
  auto evaluate = [&](lmforge::Tokenizer& tokenizer) {
    LanguageModelingTask task(options, context(2));
    task.prepare(tokenizer, true);
    torch::manual_seed(1);
    auto backbone = lmforge::test::small_lstm(tokenizer.vocabulary().size(), 0, 8, 8, true);
    lmforge::Model model(backbone, std::make_shared<lmforge::LmHead>(
                                       lmforge::LmHeadOptions{},
                                       lmforge::test::head_context(*backbone, task.num_outputs())));
    return task.evaluate(model, "valid");
  };
  // One token per character and one <eos> per line break: bits per character equal bits per
  // token exactly.
  lmforge::CharTokenizer chars(lmforge::CharTokenizerOptions{}, lmforge::NoContext{});
  auto by_char = evaluate(chars);
  CHECK(by_char.at("bpc") == Approx(by_char.at("bits_per_token")).epsilon(1e-12));
  // Words: "cab abc\nba\n" is 11 characters (line breaks included) in 5 tokens (3 words, 2 <eos>).
  lmforge::WordTokenizer words(lmforge::WordTokenizerOptions{}, lmforge::NoContext{});
  auto by_word = evaluate(words);
  CHECK(by_word.at("bpc") == Approx(by_word.at("bits_per_token") * 5.0 / 11.0).epsilon(1e-12));
}
