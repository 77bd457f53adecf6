// Key functions of the word2vec interfaces: defining the destructors here puts their typeinfo
// and vtables in liblmforge once, so dynamic_cast finds them from any plugin.
#include "lmforge/word2vec.h"

namespace lmforge {

Word2VecBackbone::~Word2VecBackbone() = default;
void Word2VecBackbone::prepare(const Vocabulary&) {}
Word2VecHead::~Word2VecHead() = default;

float Word2VecHead::update_block(const float* const* hidden, const std::int64_t* targets,
                                 std::int64_t count, std::int64_t dim, float lr,
                                 float* hidden_update, Word2VecRng& rng) {
  float loss = 0.0f;
  for (std::int64_t m = 0; m < count; ++m) {
    loss += update(hidden[m], targets[m], lr, hidden_update + m * dim, rng);
  }
  return loss;
}

}  // namespace lmforge
