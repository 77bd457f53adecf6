#pragma once
// One declaration per component describes its options: name, type, default (the member's initial
// value) and help. The same `visit` maps YAML to the struct, rejects unknown and mistyped keys,
// writes the resolved recipe and prints `lmforge plugins --describe`.
//
// Example:
//   struct LstmOptions {
//     int64_t hidden_size = 200;
//     void visit(lmforge::OptionVisitor& v) {
//       v.field("hidden_size", hidden_size, "units per LSTM layer").positive();
//     }
//   };
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

class ConfigNode;  // opaque: a place in a recipe (implemented by the core over yaml-cpp)

/// A nested component inside options: `optimizer: {type: adamw, lr: 1e-3}`.
struct ComponentSpec {
  std::string type;
  std::shared_ptr<const ConfigNode> node;  ///< null when the recipe did not give it
  bool given() const { return node != nullptr || !type.empty(); }
};

/// Returned by every `field` call so a declaration can add a constraint checked at parse time.
class LMFORGE_API FieldCheck {
 public:
  virtual ~FieldCheck() = default;
  /// Value must be > 0.
  virtual FieldCheck& positive() = 0;
  /// Value must be >= 0.
  virtual FieldCheck& non_negative() = 0;
  /// Value must lie in [lo, hi].
  virtual FieldCheck& range(double lo, double hi) = 0;
  /// The key must be given (no default).
  virtual FieldCheck& required() = 0;
};

class LMFORGE_API OptionVisitor {
 public:
  virtual ~OptionVisitor() = default;
  virtual FieldCheck& field(const char* name, std::int64_t& value, const char* help) = 0;
  virtual FieldCheck& field(const char* name, double& value, const char* help) = 0;
  virtual FieldCheck& field(const char* name, bool& value, const char* help) = 0;
  virtual FieldCheck& field(const char* name, std::string& value, const char* help) = 0;
  virtual FieldCheck& field(const char* name, std::vector<std::string>& value,
                            const char* help) = 0;
  virtual FieldCheck& field(const char* name, std::vector<std::int64_t>& value,
                            const char* help) = 0;
  /// A string that must be one of `allowed`.
  virtual FieldCheck& choice(const char* name, std::string& value,
                             const std::vector<std::string>& allowed, const char* help) = 0;
  /// A nested mapping of plain options: `init: {from: pretrain, parts: [backbone]}`.
  virtual FieldCheck& group(const char* name, const std::function<void(OptionVisitor&)>& visit,
                            const char* help) = 0;
  /// A nested component of registry kind `kind` (e.g. "optimizer").
  virtual FieldCheck& component(const char* name, ComponentSpec& value, const char* kind,
                                const char* help) = 0;
};

/// Checks the current values of an options struct against the constraints its `visit` declares
/// (positive, non_negative, range, choice) and throws ConfigError ("WHAT: option ...", no place:
/// the recipe reader or `lmforge validate` adds the component's) naming the first that fails.
/// For a component built in C++ without a recipe: the recipe reader already checks the same
/// declarations, with the recipe's file:line:col, so a constructor never repeats them by hand.
LMFORGE_API void check_declared(const std::function<void(OptionVisitor&)>& visit,
                                const std::string& what);
template <class Options>
void check_options(Options options, const std::string& what) {
  check_declared([&](OptionVisitor& v) { options.visit(v); }, what);
}

/// Options for components that take none.
struct NoOptions {
  void visit(OptionVisitor&) {}
};

}  // namespace lmforge
