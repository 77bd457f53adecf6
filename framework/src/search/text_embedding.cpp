#include "search/text_embedding.h"

#include <algorithm>
#include <fstream>

#include "embed/embed_internal.h"
#include "lmforge/error.h"
#include "lmforge/word_vector_table.h"
#include "text/utf8.h"

namespace lmforge {

std::vector<std::string> read_corpus(const std::string& path, const std::string& option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, option + ": cannot open the file");
  std::vector<std::string> lines;
  std::string line;
  std::int64_t number = 0;
  bool has_text = false;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    // Strict, unlike the data readers' tolerance: a search result that quotes mangled text is
    // worse than a refusal that names the line.
    if (!text::is_valid_utf8(line)) {
      throw DataError(path + ":" + std::to_string(number),
                      option +
                          ": the line is not valid UTF-8; convert the file (iconv -f ... "
                          "-t utf-8)");
    }
    has_text = has_text || line.find_first_not_of(" \t") != std::string::npos;
    lines.push_back(line);
  }
  if (!has_text) throw DataError(path, option + ": the file holds no text (one text a line)");
  return lines;
}

TextEmbedder::TextEmbedder(const LoadedStage& stage) : stage_(stage) {
  // A stage whose task neither predicts the next token nor labels texts trained word vectors.
  word_vectors_ = !stage.task->trains_next_token() && !stage.task->can_predict();
  if (word_vectors_) {
    table_ = vocabulary_vectors(stage.model->backbone(), stage.tokenizer->vocabulary());
    if (!table_.defined() || table_.dim() != 2) {
      throw ConfigError(stage.dir, "the '" + stage.components.backbone.type +
                                       "' backbone of this stage has no word vectors "
                                       "(input_embedding() is undefined) to embed texts with");
    }
  }
}

std::string TextEmbedder::method() const {
  return word_vectors_ ? "mean of word vectors" : "mean of backbone features";
}

torch::Tensor TextEmbedder::embed(const std::vector<std::string>& texts) const {
  torch::NoGradGuard no_grad;
  const Tokenizer& tokenizer = *stage_.tokenizer;
  std::vector<std::vector<std::int64_t>> encoded;
  encoded.reserve(texts.size());
  for (const auto& text : texts) {
    std::vector<std::int64_t> ids;
    for (std::int64_t id : tokenizer.encode(text)) {
      // Specials (<unk> included) carry no meaning of the text's own.
      if (id >= embed::kFirstWord) ids.push_back(id);
    }
    encoded.push_back(std::move(ids));
  }
  if (word_vectors_) {
    const std::int64_t dim = table_.size(1), rows = table_.size(0);
    torch::Tensor out = torch::zeros({static_cast<std::int64_t>(texts.size()), dim});
    for (std::size_t i = 0; i < encoded.size(); ++i) {
      std::vector<std::int64_t> ids;
      for (std::int64_t id : encoded[i]) {
        if (id < rows) ids.push_back(id);
      }
      if (ids.empty()) continue;
      out[static_cast<std::int64_t>(i)] =
          table_.index_select(0, torch::tensor(ids, torch::kLong)).mean(0);
    }
    return out;
  }
  Backbone& backbone = stage_.model->backbone();
  const auto device = backbone.parameters().empty() ? torch::Device(torch::kCPU)
                                                    : backbone.parameters().front().device();
  constexpr std::size_t kBatch = 64;
  std::vector<torch::Tensor> parts;
  for (std::size_t start = 0; start < encoded.size(); start += kBatch) {
    const std::size_t end = std::min(encoded.size(), start + kBatch);
    std::int64_t length = 1;
    for (std::size_t i = start; i < end; ++i) {
      length = std::max<std::int64_t>(length, static_cast<std::int64_t>(encoded[i].size()));
    }
    const auto batch = static_cast<std::int64_t>(end - start);
    torch::Tensor tokens = torch::full({batch, length}, Vocabulary::kPad, torch::kLong);
    torch::Tensor mask = torch::zeros({batch, length}, torch::kBool);
    for (std::size_t i = start; i < end; ++i) {
      const auto& ids = encoded[i];
      const auto row = static_cast<std::int64_t>(i - start);
      for (std::size_t t = 0; t < ids.size(); ++t) {
        tokens[row][static_cast<std::int64_t>(t)] = ids[t];
        mask[row][static_cast<std::int64_t>(t)] = true;
      }
    }
    Features features = backbone.forward({tokens.to(device), mask.to(device), {}});
    torch::Tensor sequence = features.sequence.to(torch::kCPU, torch::kFloat);
    torch::Tensor pooled;
    if (sequence.size(1) == length) {
      auto weights = mask.unsqueeze(2).to(torch::kFloat);
      pooled = (sequence * weights).sum(1) / weights.sum(1).clamp_min(1.0);
      // A text with no known token is a zero row, as for word vectors.
      pooled = pooled * (weights.sum(1) > 0).to(torch::kFloat);
    } else {
      pooled = sequence.mean(1);  // a backbone that pools itself ([B,1,H])
    }
    parts.push_back(pooled);
  }
  return torch::cat(parts, 0);
}

torch::Tensor unit_rows(const torch::Tensor& rows) {
  return rows / rows.norm(2, 1, true).clamp_min(1e-12);
}

std::vector<SearchHit> nearest_rows(const torch::Tensor& corpus, const torch::Tensor& query,
                                    std::int64_t k) {
  torch::Tensor scores = torch::mv(unit_rows(corpus), unit_rows(query.unsqueeze(0))[0]);
  k = std::min<std::int64_t>(k, scores.size(0));
  auto top = scores.topk(k);
  std::vector<SearchHit> hits;
  auto values = std::get<0>(top), indices = std::get<1>(top);
  for (std::int64_t i = 0; i < k; ++i) {
    hits.push_back({indices[i].item<std::int64_t>(), values[i].item<double>()});
  }
  return hits;
}

}  // namespace lmforge
