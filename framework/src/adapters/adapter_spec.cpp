#include "adapters/adapter_spec.h"

namespace lmforge {

void AdapterSpec::visit(OptionVisitor& v) {
  v.choice("type", type, {"lora"}, "lora: W = W0 + (alpha/rank)·B·A on each target").required();
  v.field("rank", rank, "rank of the update (at most the smaller side of each target)").positive();
  v.field("alpha", alpha, "the update is scaled by alpha/rank").positive();
  // The update is written into the weight (adapters/lora.h), where a dropout on the adapter's
  // input alone has no equivalent: only 0 is accepted rather than a value silently ignored.
  v.field("dropout", dropout,
          "dropout on the adapter path: must be 0 (lmforge's LoRA rewrites the weight, which "
          "works on any backbone but cannot drop the adapter's input alone)")
      .range(0, 0);
  v.field("targets", targets,
          "weight matrices to adapt: parameter-name globs (blocks.*.qkv.weight) or layer names "
          "(qkv, proj, ff_in, ff_out)")
      .required();
}

}  // namespace lmforge
