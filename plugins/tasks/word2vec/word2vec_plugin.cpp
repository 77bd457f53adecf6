// Registration lives apart from the task so tests can compile word2vec_task.cpp beside other
// plugins without clashing handshake symbols.
#include "lmforge/plugin.h"
#include "word2vec_task.h"

LMFORGE_PLUGIN(word2vec) {
  reg.task<lmforge::Word2VecTask>(
      "word2vec",
      "word2vec training (CBOW or skip-gram by the backbone) with a fused multi-threaded update");
}
