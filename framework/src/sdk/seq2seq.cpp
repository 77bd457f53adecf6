// The out-of-line destructors anchor the interfaces' type information in the SDK library, so a
// dynamic_cast from the core to an interface a plugin implements finds one type, not two.
#include "lmforge/seq2seq.h"

namespace lmforge {

Seq2SeqBody::~Seq2SeqBody() = default;
Translator::~Translator() = default;

}  // namespace lmforge
