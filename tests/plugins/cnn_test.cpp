// The cnn backbone (Kim 2014): shapes, max-over-time pooling against a hand-written loop,
// padding that changes nothing, gradients against finite differences, and a tiny batch that a
// cnn + classifier overfits.
#include "models/cnn/cnn.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "heads/classifier/classifier_head.h"
#include "lmforge/error.h"
#include "lmforge/model.h"

using lmforge::BackboneInput;
using lmforge::CnnBackbone;
using lmforge::CnnOptions;

namespace {

CnnOptions small_options() {
  CnnOptions options;
  options.embedding_dim = 6;
  options.filter_widths = {2, 3, 5};
  options.feature_maps = 4;
  options.dropout = 0.0;
  return options;
}

lmforge::BackboneContext vocab(std::int64_t size) {
  lmforge::BackboneContext context;
  context.vocab_size = size;
  return context;
}

// Kim's feature for one sentence, one width, one filter, by explicit loops over the wide windows.
double feature_by_hand(CnnBackbone& cnn, const std::vector<std::int64_t>& sentence,
                       std::size_t bank, std::int64_t width, std::int64_t filter) {
  auto params = cnn.named_parameters();
  torch::Tensor embedding = params["embedding.weight"];
  torch::Tensor weight = params["conv" + std::to_string(bank) + ".weight"];  // [F,E,width]
  torch::Tensor bias = params["conv" + std::to_string(bank) + ".bias"];
  const auto length = static_cast<std::int64_t>(sentence.size());
  const std::int64_t e = embedding.size(1);
  double best = 0;  // ReLU: never below 0
  for (std::int64_t start = -(width - 1); start < length; ++start) {
    double sum = bias[filter].item<double>();
    for (std::int64_t k = 0; k < width; ++k) {
      const std::int64_t t = start + k;
      if (t < 0 || t >= length) continue;  // zero padding
      for (std::int64_t d = 0; d < e; ++d) {
        sum += weight[filter][d][k].item<double>() * embedding[sentence[t]][d].item<double>();
      }
    }
    best = std::max(best, sum);
  }
  return best;
}

}  // namespace

TEST_CASE("cnn: shapes, max-over-time pooling by hand, padding changes nothing", "[cnn]") {
  torch::manual_seed(1);
  CnnBackbone cnn(small_options(), vocab(20));
  cnn.eval();
  CHECK(cnn.output_size() == 12);
  CHECK(cnn.input_embedding().sizes() == torch::IntArrayRef({20, 6}));
  CHECK(cnn.layer_groups().size() == 2);
  CHECK(cnn.layer_groups()[1].size() == 6);  // weight and bias of three banks

  // Row 0: seven real tokens; row 1: two real tokens (shorter than the widest filter) then pad.
  torch::Tensor tokens = torch::tensor({{5, 6, 7, 8, 9, 10, 11}, {12, 13, 0, 0, 0, 0, 0}});
  torch::Tensor mask = tokens != 0;
  auto features = cnn.forward(BackboneInput{tokens, mask, {}});
  REQUIRE(features.sequence.sizes() == torch::IntArrayRef({2, 1, 12}));
  CHECK(!features.mask.defined());

  const std::vector<std::vector<std::int64_t>> sentences{{5, 6, 7, 8, 9, 10, 11}, {12, 13}};
  const std::vector<std::int64_t> widths{2, 3, 5};
  for (std::size_t row = 0; row < 2; ++row) {
    for (std::size_t bank = 0; bank < 3; ++bank) {
      for (std::int64_t f = 0; f < 4; ++f) {
        CHECK(features.sequence[row][0][bank * 4 + f].item<double>() ==
              Approx(feature_by_hand(cnn, sentences[row], bank, widths[bank], f)).margin(1e-5));
      }
    }
  }
  // The short sentence alone, unpadded, gives the same vector: padding never wins a maximum.
  auto alone = cnn.forward(BackboneInput{torch::tensor({{12, 13}}), {}, {}});
  CHECK(torch::allclose(alone.sequence[0], features.sequence[1], 1e-5, 1e-6));
}

TEST_CASE("cnn: dropout only while training", "[cnn]") {
  CnnOptions options = small_options();
  options.dropout = 0.5;
  torch::manual_seed(2);
  CnnBackbone cnn(options, vocab(20));
  torch::Tensor tokens = torch::randint(4, 20, {8, 9});
  cnn.eval();
  auto a = cnn.forward(BackboneInput{tokens, {}, {}}).sequence;
  auto b = cnn.forward(BackboneInput{tokens, {}, {}}).sequence;
  CHECK(torch::equal(a, b));
  cnn.train();
  auto c = cnn.forward(BackboneInput{tokens, {}, {}}).sequence;
  CHECK((c == 0).sum().item<int>() > (a == 0).sum().item<int>());
}

TEST_CASE("cnn: gradients match finite differences", "[cnn]") {
  torch::manual_seed(3);
  CnnBackbone cnn(small_options(), vocab(12));
  cnn.to(torch::kDouble);
  cnn.eval();
  torch::Tensor tokens = torch::tensor({{4, 5, 6, 7, 8}, {9, 10, 11, 0, 0}});
  torch::Tensor mask = tokens != 0;
  torch::Tensor probe = torch::randn({2, 1, 12}, torch::kDouble);
  auto objective = [&] {
    return (cnn.forward(BackboneInput{tokens, mask, {}}).sequence * probe).sum();
  };
  cnn.zero_grad();
  objective().backward();
  torch::NoGradGuard no_grad;
  int checked = 0;
  for (auto& item : cnn.named_parameters()) {
    torch::Tensor p = item.value();
    REQUIRE(p.grad().defined());
    auto flat = p.view({-1});
    auto grad = p.grad().view({-1});
    for (std::int64_t i = 0; i < flat.numel(); i += std::max<std::int64_t>(1, flat.numel() / 7)) {
      const double saved = flat[i].item<double>();
      flat[i] = saved + 1e-6;
      const double up = objective().item<double>();
      flat[i] = saved - 1e-6;
      const double down = objective().item<double>();
      flat[i] = saved;
      CAPTURE(item.key(), i);
      CHECK(grad[i].item<double>() == Approx((up - down) / 2e-6).margin(1e-6));
      ++checked;
    }
  }
  CHECK(checked > 20);
  // Rows of words the batch does not use get no gradient; used rows do.
  torch::Tensor embedding_grad = cnn.named_parameters()["embedding.weight"].grad();
  CHECK(embedding_grad[1].abs().sum().item<double>() == 0);
  CHECK(embedding_grad[5].abs().sum().item<double>() > 0);
}

TEST_CASE("cnn + classifier overfits a tiny batch", "[cnn]") {
  torch::manual_seed(4);
  CnnOptions options = small_options();
  options.embedding_dim = 16;
  options.feature_maps = 8;
  options.dropout = 0.2;
  auto cnn = std::make_shared<CnnBackbone>(options, vocab(40));
  lmforge::ClassifierHeadOptions head_options;
  head_options.pooling = "first";
  head_options.dropout = 0.0;
  lmforge::HeadContext head_context;
  head_context.input_size = cnn->output_size();
  head_context.num_outputs = 3;
  auto head = std::make_shared<lmforge::ClassifierHead>(head_options, head_context);
  lmforge::Model model(cnn, head);
  torch::Tensor tokens = torch::randint(4, 40, {12, 10});
  torch::Tensor labels = torch::randint(0, 3, {12});
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(1e-2));
  model.train();
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    optimizer.zero_grad();
    torch::Tensor loss =
        head->loss(head->forward(cnn->forward(BackboneInput{tokens, {}, {}})), labels);
    loss.backward();
    optimizer.step();
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
  }
  model.eval();
  torch::Tensor predicted = head->forward(cnn->forward(BackboneInput{tokens, {}, {}})).argmax(1);
  CAPTURE(first, last);
  CHECK(last < 0.05);
  CHECK(torch::equal(predicted, labels));
}

TEST_CASE("cnn: bad options are refused", "[cnn]") {
  CnnOptions options = small_options();
  options.filter_widths = {};
  CHECK_THROWS_WITH(CnnBackbone(options, vocab(10)), Catch::Contains("at least one filter width"));
  options.filter_widths = {3, 0};
  CHECK_THROWS_WITH(CnnBackbone(options, vocab(10)),
                    Catch::Contains("cnn: filter_widths must be greater than 0, got 0"));
}
