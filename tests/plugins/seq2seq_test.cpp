// The encoder-decoder body and its decoding: encoder padding, decoder causality, the decode
// cache against re-reading the prefix, beam 1 against greedy, beam search beating greedy on the
// model's own score, and a tiny model that learns to reverse sequences.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "heads/lm/lm_head.h"
#include "lmforge/model.h"
#include "lmforge/vocabulary.h"
#include "models/encoder_decoder/encoder_decoder.h"
#include "tasks/seq2seq/search.h"

using lmforge::BackboneContext;
using lmforge::DecodeOptions;
using lmforge::EncoderDecoderBackbone;
using lmforge::EncoderDecoderOptions;
using lmforge::Features;
using lmforge::Vocabulary;

namespace {

constexpr std::int64_t kVocab = 14;  // 4 specials + 10 symbols

EncoderDecoderOptions small(const std::string& norm = "post") {
  EncoderDecoderOptions o;
  o.layers = 2;
  o.heads = 2;
  o.width = 16;
  o.ff_width = 32;
  o.dropout = 0.0;
  o.max_positions = 24;
  o.norm = norm;
  return o;
}

std::shared_ptr<lmforge::Model> make_model(const EncoderDecoderOptions& o, std::uint64_t seed) {
  torch::manual_seed(seed);
  BackboneContext context;
  context.vocab_size = kVocab;
  context.padding_id = Vocabulary::kPad;
  auto body = std::make_shared<EncoderDecoderBackbone>(o, context);
  lmforge::HeadContext head_context;
  head_context.input_size = o.width;
  head_context.num_outputs = kVocab;
  head_context.backbone = body.get();
  auto head = std::make_shared<lmforge::LmHead>(lmforge::LmHeadOptions{}, head_context);
  return std::make_shared<lmforge::Model>(body, head);
}

EncoderDecoderBackbone& body_of(lmforge::Model& m) {
  return dynamic_cast<EncoderDecoderBackbone&>(m.backbone());
}

torch::Tensor symbols(std::vector<std::int64_t> sizes) {
  return torch::randint(4, kVocab, sizes, torch::kLong);
}

}  // namespace

TEST_CASE("seq2seq: the body is reached through the SDK interface", "[seq2seq]") {
  auto model = make_model(small(), 1);
  CHECK(dynamic_cast<lmforge::Seq2SeqBody*>(&model->backbone()) != nullptr);
}

TEST_CASE("seq2seq: encoder padding never changes the unpadded outputs", "[seq2seq]") {
  for (const char* norm : {"pre", "post"}) {
    auto model = make_model(small(norm), 2);
    model->eval();
    auto& body = body_of(*model);
    auto source = symbols({1, 5});
    auto alone = body.encode(source, torch::ones({1, 5}, torch::kBool));
    auto padded_source = torch::cat({source, torch::zeros({1, 4}, torch::kLong)}, 1);
    auto mask =
        torch::cat({torch::ones({1, 5}, torch::kBool), torch::zeros({1, 4}, torch::kBool)}, 1);
    auto padded = body.encode(padded_source, mask);
    CHECK(torch::allclose(padded.narrow(1, 0, 5), alone, 1e-5, 1e-6));
    // And the decoder reading the padded memory sees what it sees from the unpadded one.
    auto target = symbols({1, 4});
    auto d1 = body.decode(target, alone, torch::ones({1, 5}, torch::kBool), {}, false).sequence;
    auto d2 = body.decode(target, padded, mask, {}, false).sequence;
    CHECK(torch::allclose(d1, d2, 1e-5, 1e-6));
  }
}

TEST_CASE("seq2seq: a future target token never changes an earlier decoder output", "[seq2seq]") {
  auto model = make_model(small(), 3);
  model->eval();
  auto& body = body_of(*model);
  auto source = symbols({2, 6});
  auto memory = body.encode(source, {});
  auto target = symbols({2, 7});
  auto changed = target.clone();
  changed.narrow(1, 4, 3).copy_(symbols({2, 3}));
  auto a = body.decode(target, memory, {}, {}, false).sequence;
  auto b = body.decode(changed, memory, {}, {}, false).sequence;
  CHECK(torch::allclose(a.narrow(1, 0, 4), b.narrow(1, 0, 4), 1e-5, 1e-6));
  CHECK_FALSE(torch::allclose(a.narrow(1, 4, 3), b.narrow(1, 4, 3), 1e-3, 1e-3));
}

TEST_CASE("seq2seq: cached decoding equals re-reading the whole prefix", "[seq2seq]") {
  for (const char* norm : {"pre", "post"}) {
    auto model = make_model(small(norm), 4);
    model->eval();
    torch::NoGradGuard no_grad;
    auto& body = body_of(*model);
    auto source = symbols({3, 6});
    auto mask = torch::ones({3, 6}, torch::kBool);
    mask[1].narrow(0, 4, 2).fill_(false);
    auto memory = body.encode(source, mask);
    auto target = symbols({3, 8});
    auto full = body.decode(target, memory, mask, {}, false).sequence;
    lmforge::State cache;
    for (std::int64_t t = 0; t < 8; ++t) {
      Features f = body.decode(target.narrow(1, t, 1), memory, mask, cache, true);
      cache = f.state;
      CHECK(torch::allclose(f.sequence.squeeze(1), full.select(1, t), 1e-5, 1e-5));
    }
    // The searches agree too.
    DecodeOptions options;
    auto cached = lmforge::seq2seq::greedy_search(body, model->head(), source, mask, options, true);
    auto uncached =
        lmforge::seq2seq::greedy_search(body, model->head(), source, mask, options, false);
    for (std::size_t i = 0; i < cached.size(); ++i) {
      CHECK(cached[i].tokens == uncached[i].tokens);
      CHECK(cached[i].log_probability == Approx(uncached[i].log_probability).epsilon(1e-4));
    }
  }
}

TEST_CASE("seq2seq: beam 1 equals greedy, and a wider beam scores at least as well", "[seq2seq]") {
  auto model = make_model(small(), 5);
  model->eval();
  auto& body = body_of(*model);
  auto source = symbols({6, 5});
  auto mask = torch::ones({6, 5}, torch::kBool);
  mask[2].narrow(0, 3, 2).fill_(false);
  DecodeOptions options;
  options.length_penalty = 0;  // raw log-probabilities, so the scores compare directly
  auto greedy = lmforge::seq2seq::greedy_search(body, model->head(), source, mask, options);
  options.beam = 1;
  auto beam1 = lmforge::seq2seq::beam_search(body, model->head(), source, mask, options);
  options.beam = 4;
  auto beam4 = lmforge::seq2seq::beam_search(body, model->head(), source, mask, options);
  int better = 0;
  for (std::size_t i = 0; i < greedy.size(); ++i) {
    CHECK(beam1[i].tokens == greedy[i].tokens);
    CHECK(beam1[i].log_probability == Approx(greedy[i].log_probability).epsilon(1e-4));
    CHECK(beam4[i].score >= greedy[i].score - 1e-4);
    if (beam4[i].score > greedy[i].score + 1e-3) ++better;
  }
  // An untrained model's distributions are flat enough that greedy is not optimal somewhere.
  CHECK(better > 0);
}

TEST_CASE("seq2seq: a tiny model learns to reverse short sequences", "[seq2seq][slow]") {
  auto options = small("pre");
  options.layers = 1;
  options.width = 32;
  options.ff_width = 64;
  options.heads = 4;
  auto model = make_model(options, 6);
  auto& body = body_of(*model);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(3e-3));
  auto make_batch = [&](std::int64_t rows) {
    auto seq = symbols({rows, 5});
    auto source = torch::cat({seq, torch::full({rows, 1}, Vocabulary::kEos, torch::kLong)}, 1);
    auto target = torch::cat({torch::full({rows, 1}, Vocabulary::kBos, torch::kLong), seq.flip({1}),
                              torch::full({rows, 1}, Vocabulary::kEos, torch::kLong)},
                             1);
    return std::make_pair(source, target);
  };
  model->train();
  for (int step = 0; step < 400; ++step) {
    auto [source, target] = make_batch(32);
    auto memory = body.encode(source, {});
    auto f = body.decode(target.narrow(1, 0, 6), memory, {}, {}, false);
    auto loss = model->head().loss(model->head().forward(f), target.narrow(1, 1, 6));
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  model->eval();
  torch::manual_seed(99);
  auto [source, target] = make_batch(50);
  DecodeOptions d;
  d.beam = 3;
  auto out = lmforge::seq2seq::beam_search(body, model->head(), source,
                                           torch::ones({50, 6}, torch::kBool), d);
  int exact = 0;
  for (std::int64_t i = 0; i < 50; ++i) {
    auto expected = target[i].narrow(0, 1, 5);
    std::vector<std::int64_t> want(expected.data_ptr<std::int64_t>(),
                                   expected.data_ptr<std::int64_t>() + 5);
    if (out[i].tokens == want) ++exact;
  }
  INFO("exactly reversed: " << exact << " of 50");
  CHECK(exact >= 45);  // chance is 10^-5 per sequence
}
