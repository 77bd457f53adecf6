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
  std::string kind;     ///< "backbone", "head", ...
  std::string name;     ///< the recipe's `type:`
  std::string summary;  ///< one line
  std::string source;   ///< plugin file, or "built-in"
  std::function<void(OptionVisitor&)> describe;  ///< visits a default-constructed options struct
};

template <class Product, class Context>
using Factory = std::function<std::shared_ptr<Product>(OptionReader&, const Context&)>;

class LMFORGE_API Registry {
 public:
  /// The process-wide registry.
  static Registry& instance();

  template <class T>
  void backbone(const std::string& name, const std::string& summary) {
    add_backbone(info<T>("backbone", name, summary), make_factory<Backbone, BackboneContext, T>());
  }
  template <class T>
  void head(const std::string& name, const std::string& summary) {
    add_head(info<T>("head", name, summary), make_factory<Head, HeadContext, T>());
  }
  template <class T>
  void task(const std::string& name, const std::string& summary) {
    add_task(info<T>("task", name, summary), make_factory<Task, TaskContext, T>());
  }
  template <class T>
  void tokenizer(const std::string& name, const std::string& summary) {
    add_tokenizer(info<T>("tokenizer", name, summary), make_factory<Tokenizer, NoContext, T>());
  }
  template <class T>
  void optimizer(const std::string& name, const std::string& summary) {
    add_optimizer(info<T>("optimizer", name, summary),
                  make_factory<torch::optim::Optimizer, OptimizerContext, T>());
  }
  template <class T>
  void schedule(const std::string& name, const std::string& summary) {
    add_schedule(info<T>("scheduler", name, summary),
                 make_factory<Schedule, ScheduleContext, T>());
  }

  void add_backbone(ComponentInfo info, Factory<Backbone, BackboneContext> factory);
  void add_head(ComponentInfo info, Factory<Head, HeadContext> factory);
  void add_task(ComponentInfo info, Factory<Task, TaskContext> factory);
  void add_tokenizer(ComponentInfo info, Factory<Tokenizer, NoContext> factory);
  void add_optimizer(ComponentInfo info, Factory<torch::optim::Optimizer, OptimizerContext> factory);
  void add_schedule(ComponentInfo info, Factory<Schedule, ScheduleContext> factory);

  /// Throws ConfigError at `place` for an unknown name, with the known names and a suggestion.
  std::shared_ptr<Backbone> make_backbone(const std::string& name, OptionReader& options,
                                          const BackboneContext& context,
                                          const std::string& place) const;
  std::shared_ptr<Head> make_head(const std::string& name, OptionReader& options,
                                  const HeadContext& context, const std::string& place) const;
  std::shared_ptr<Task> make_task(const std::string& name, OptionReader& options,
                                  const TaskContext& context, const std::string& place) const;
  std::shared_ptr<Tokenizer> make_tokenizer(const std::string& name, OptionReader& options,
                                            const std::string& place) const;
  std::shared_ptr<torch::optim::Optimizer> make_optimizer(const std::string& name, OptionReader& options,
                                                  const OptimizerContext& context,
                                                  const std::string& place) const;
  std::shared_ptr<Schedule> make_schedule(const std::string& name, OptionReader& options,
                                          const ScheduleContext& context,
                                          const std::string& place) const;

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

 private:
  Registry() = default;
  struct Entry {
    ComponentInfo info;
    std::shared_ptr<void> factory;  // Factory<Product, Context> for the entry's kind
  };
  void add(ComponentInfo info, std::shared_ptr<void> factory);
  const Entry& lookup(const std::string& kind, const std::string& name,
                      const std::string& place) const;

  template <class T>
  ComponentInfo info(const char* kind, const std::string& name, const std::string& summary) {
    return ComponentInfo{kind, name, summary, current_source_, [](OptionVisitor& v) {
                           typename T::Options defaults;
                           defaults.visit(v);
                         }};
  }
  template <class Product, class Context, class T>
  static Factory<Product, Context> make_factory() {
    return [](OptionReader& reader, const Context& context) -> std::shared_ptr<Product> {
      return std::make_shared<T>(parse_options<typename T::Options>(reader), context);
    };
  }

  std::map<std::string, std::map<std::string, Entry>> entries_;  // kind -> name -> entry
  std::string current_source_ = "built-in";
};

}  // namespace lmforge
