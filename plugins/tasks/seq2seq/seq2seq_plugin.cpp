// Registration lives apart from the task so tests can link the task beside other plugins.
#include "lmforge/plugin.h"
#include "seq2seq_task.h"

LMFORGE_PLUGIN(seq2seq) {
  reg.task<lmforge::Seq2SeqTask>(
      "seq2seq", "sequence to sequence (translation) over line-aligned parallel files, with BLEU");
}
