#pragma once
// `adapters: {type: lora, rank: 8, alpha: 16, targets: [qkv, proj, ff_in, ff_out]}`: low-rank
// updates on the named weight matrices of the backbone a stage takes by `init`, which stays
// frozen (adapters/lora.h).
#include <cstdint>
#include <string>
#include <vector>

#include "lmforge/options.h"

namespace lmforge {

struct AdapterSpec {
  std::string type;  ///< empty: no adapters
  std::int64_t rank = 8;
  double alpha = 16.0;
  double dropout = 0.0;
  std::vector<std::string> targets;
  void visit(OptionVisitor& v);
  bool given() const { return !type.empty(); }
};

}  // namespace lmforge
