// Key functions of the word2vec interfaces: defining the destructors here puts their typeinfo
// and vtables in liblmforge once, so dynamic_cast finds them from any plugin.
#include "lmforge/word2vec.h"

namespace lmforge {

Word2VecBackbone::~Word2VecBackbone() = default;
void Word2VecBackbone::prepare(const Vocabulary&) {}
Word2VecHead::~Word2VecHead() = default;

}  // namespace lmforge
