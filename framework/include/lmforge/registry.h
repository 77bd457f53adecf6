#pragma once
// Named factories per kind. Built-ins and plugins register the same way:
//   reg.backbone<LstmBackbone>("lstm", "word-level LSTM");
// where LstmBackbone has `using Options = LstmOptions;` and a constructor
// `LstmBackbone(const LstmOptions&, const BackboneContext&)`. An unknown name is a ConfigError that
// lists the known names and suggests the closest one.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lmforge/export.h"
#include "lmforge/options.h"

namespace lmforge {

class Backbone;
class Head;
class Task;
class Tokenizer;
class Schedule;
class Metric;
class Importer;
struct BackboneContext;
struct HeadContext;
struct TaskContext;
struct OptimizerContext;
struct ScheduleContext;
struct NoContext {};
}  // namespace lmforge
namespace torch::optim {
class Optimizer;
}
namespace lmforge {

/// Fills an options struct from a recipe node; implemented by the core over yaml-cpp.
class LMFORGE_API OptionReader {
 public:
  virtual ~OptionReader() = default;
  virtual void read(const std::function<void(OptionVisitor&)>& visit) = 0;
};

/// Parses `Options` from `reader`, reporting every bad key with its recipe place.
template <class Options>
Options parse_options(OptionReader& reader) {
  Options options;
  reader.read([&](OptionVisitor& v) { options.visit(v); });
  return options;
}

/// What `lmforge plugins` prints for one component.
struct ComponentInfo {
  std::string kind;                              ///< "backbone", "head", ...
  std::string name;                              ///< the recipe's `type:`
  std::string summary;                           ///< one line
  std::string source;                            ///< plugin file, or "built-in"
  std::function<void(OptionVisitor&)> describe;  ///< visits a default-constructed options struct
};

template <class Product, class Context>
using Factory = std::function<std::shared_ptr<Product>(OptionReader&, const Context&)>;

/// What a kind of component is made from. One specialisation per kind (LLVM's Registry<T> is the
/// model): adding a kind is one specialisation, and every kind is added, made, listed and
/// documented by the same code.
template <class Product>
struct ComponentKind;
template <>
struct ComponentKind<Backbone> {
  using Context = BackboneContext;
  static constexpr const char* kName = "backbone";
};
template <>
struct ComponentKind<Head> {
  using Context = HeadContext;
  static constexpr const char* kName = "head";
};
template <>
struct ComponentKind<Task> {
  using Context = TaskContext;
  static constexpr const char* kName = "task";
};
template <>
struct ComponentKind<Tokenizer> {
  using Context = NoContext;
  static constexpr const char* kName = "tokenizer";
};
template <>
struct ComponentKind<torch::optim::Optimizer> {
  using Context = OptimizerContext;
  static constexpr const char* kName = "optimizer";
};
template <>
struct ComponentKind<Schedule> {
  using Context = ScheduleContext;
  static constexpr const char* kName = "schedule";
};
template <>
struct ComponentKind<Metric> {
  using Context = NoContext;
  static constexpr const char* kName = "metric";
};

template <>
struct ComponentKind<Importer> {
  using Context = NoContext;
  static constexpr const char* kName = "importer";
};

/// The names plugins register under, one method per kind: reg.backbone<LstmBackbone>("lstm",
/// "word-level LSTM"). Written once for the Registry and for a plugin's registrar
/// (lmforge/plugin.h), each of which provides `add<Product, T>(name, summary)`.
template <class Derived>
class RegistrationNames {
 public:
  template <class T>
  void backbone(const std::string& name, const std::string& summary) {
    self().template add<Backbone, T>(name, summary);
  }
  template <class T>
  void head(const std::string& name, const std::string& summary) {
    self().template add<Head, T>(name, summary);
  }
  template <class T>
  void task(const std::string& name, const std::string& summary) {
    self().template add<Task, T>(name, summary);
  }
  template <class T>
  void tokenizer(const std::string& name, const std::string& summary) {
    self().template add<Tokenizer, T>(name, summary);
  }
  template <class T>
  void optimizer(const std::string& name, const std::string& summary) {
    self().template add<torch::optim::Optimizer, T>(name, summary);
  }
  template <class T>
  void schedule(const std::string& name, const std::string& summary) {
    self().template add<Schedule, T>(name, summary);
  }
  template <class T>
  void metric(const std::string& name, const std::string& summary) {
    self().template add<Metric, T>(name, summary);
  }
  template <class T>
  void importer(const std::string& name, const std::string& summary) {
    self().template add<Importer, T>(name, summary);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

class LMFORGE_API Registry : public RegistrationNames<Registry> {
 public:
  /// The process-wide registry.
  static Registry& instance();

  /// Registers `T` (with `using Options = ...;` and a constructor `T(const Options&, const
  /// Context&)`) as the `Product` named `name`.
  template <class Product, class T>
  void add(const std::string& name, const std::string& summary) {
    using Context = typename ComponentKind<Product>::Context;
    Factory<Product, Context> factory = [](OptionReader& reader, const Context& context) {
      return std::shared_ptr<Product>(
          std::make_shared<T>(parse_options<typename T::Options>(reader), context));
    };
    add_entry(info<T>(ComponentKind<Product>::kName, name, summary),
              std::make_shared<Factory<Product, Context>>(std::move(factory)));
  }
  /// Builds the `Product` named `name`; throws ConfigError at `place` for an unknown name, with
  /// the known names and a suggestion.
  template <class Product>
  std::shared_ptr<Product> make(const std::string& name, OptionReader& options,
                                const typename ComponentKind<Product>::Context& context,
                                const std::string& place) const {
    using Context = typename ComponentKind<Product>::Context;
    const auto& factory = factory_of(ComponentKind<Product>::kName, name, place);
    return (*std::static_pointer_cast<Factory<Product, Context>>(factory))(options, context);
  }

  std::shared_ptr<Backbone> make_backbone(const std::string& name, OptionReader& options,
                                          const BackboneContext& context,
                                          const std::string& place) const {
    return make<Backbone>(name, options, context, place);
  }
  std::shared_ptr<Head> make_head(const std::string& name, OptionReader& options,
                                  const HeadContext& context, const std::string& place) const {
    return make<Head>(name, options, context, place);
  }
  std::shared_ptr<Task> make_task(const std::string& name, OptionReader& options,
                                  const TaskContext& context, const std::string& place) const {
    return make<Task>(name, options, context, place);
  }
  std::shared_ptr<Tokenizer> make_tokenizer(const std::string& name, OptionReader& options,
                                            const std::string& place) const {
    return make<Tokenizer>(name, options, NoContext{}, place);
  }
  std::shared_ptr<torch::optim::Optimizer> make_optimizer(const std::string& name,
                                                          OptionReader& options,
                                                          const OptimizerContext& context,
                                                          const std::string& place) const {
    return make<torch::optim::Optimizer>(name, options, context, place);
  }
  std::shared_ptr<Schedule> make_schedule(const std::string& name, OptionReader& options,
                                          const ScheduleContext& context,
                                          const std::string& place) const {
    return make<Schedule>(name, options, context, place);
  }

  /// Every registered component, sorted by kind then name.
  std::vector<ComponentInfo> components() const;
  /// The component `name` of `kind`; throws ConfigError at `place` if unknown.
  const ComponentInfo& find(const std::string& kind, const std::string& name,
                            const std::string& place) const;
  bool contains(const std::string& kind, const std::string& name) const;

  /// Set by the plugin loader while a plugin registers, so each entry knows its file.
  void set_current_source(std::string source) { current_source_ = std::move(source); }
  const std::string& current_source() const { return current_source_; }
  /// Removes every entry that came from `source` (used when a plugin's registration throws).
  void remove_source(const std::string& source);

  /// Adds one entry; `factory` holds a Factory<Product, Context> of the entry's kind. Throws
  /// PluginError when the kind already has the name.
  void add_entry(ComponentInfo info, std::shared_ptr<void> factory);

 private:
  Registry() = default;
  struct Entry {
    ComponentInfo info;
    std::shared_ptr<void> factory;  // Factory<Product, Context> for the entry's kind
  };
  const Entry& lookup(const std::string& kind, const std::string& name,
                      const std::string& place) const;
  const std::shared_ptr<void>& factory_of(const std::string& kind, const std::string& name,
                                          const std::string& place) const {
    return lookup(kind, name, place).factory;
  }

  template <class T>
  ComponentInfo info(const char* kind, const std::string& name, const std::string& summary) {
    return ComponentInfo{kind, name, summary, current_source_, [](OptionVisitor& v) {
                           typename T::Options defaults;
                           defaults.visit(v);
                         }};
  }

  std::map<std::string, std::map<std::string, Entry>> entries_;  // kind -> name -> entry
  std::string current_source_ = "built-in";
};

}  // namespace lmforge
