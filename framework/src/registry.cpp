#include "lmforge/registry.h"

#include <algorithm>

#include "config/suggest.h"
#include "lmforge/error.h"

namespace lmforge {

Registry& Registry::instance() {
  // Leaked on purpose: factories may live in plugins, which are never unloaded, and destroying
  // them after a plugin's static destructors ran would crash at exit.
  static Registry* registry = new Registry();
  return *registry;
}

void Registry::add(ComponentInfo info, std::shared_ptr<void> factory) {
  auto& by_name = entries_[info.kind];
  auto existing = by_name.find(info.name);
  if (existing != by_name.end()) {
    throw PluginError(info.source, info.kind + " '" + info.name + "' is already registered by " +
                                       existing->second.info.source +
                                       "; a name may be registered only once");
  }
  std::string name = info.name;
  by_name.emplace(name, Entry{std::move(info), std::move(factory)});
}

#define LMFORGE_REGISTRY_KIND(Product, Context, add_fn, make_fn, kind_name)                      \
  void Registry::add_fn(ComponentInfo info, Factory<Product, Context> factory) {                \
    info.kind = kind_name;                                                                       \
    add(std::move(info), std::make_shared<Factory<Product, Context>>(std::move(factory)));      \
  }

LMFORGE_REGISTRY_KIND(Backbone, BackboneContext, add_backbone, make_backbone, "backbone")
LMFORGE_REGISTRY_KIND(Head, HeadContext, add_head, make_head, "head")
LMFORGE_REGISTRY_KIND(Task, TaskContext, add_task, make_task, "task")
LMFORGE_REGISTRY_KIND(Tokenizer, NoContext, add_tokenizer, make_tokenizer, "tokenizer")
LMFORGE_REGISTRY_KIND(torch::optim::Optimizer, OptimizerContext, add_optimizer, make_optimizer,
                      "optimizer")
LMFORGE_REGISTRY_KIND(Schedule, ScheduleContext, add_schedule, make_schedule, "scheduler")
#undef LMFORGE_REGISTRY_KIND

namespace {
template <class Product, class Context>
std::shared_ptr<Product> call(const std::shared_ptr<void>& factory, OptionReader& options,
                              const Context& context) {
  return (*std::static_pointer_cast<Factory<Product, Context>>(factory))(options, context);
}
}  // namespace

std::shared_ptr<Backbone> Registry::make_backbone(const std::string& name, OptionReader& options,
                                                  const BackboneContext& context,
                                                  const std::string& place) const {
  return call<Backbone>(lookup("backbone", name, place).factory, options, context);
}
std::shared_ptr<Head> Registry::make_head(const std::string& name, OptionReader& options,
                                          const HeadContext& context,
                                          const std::string& place) const {
  return call<Head>(lookup("head", name, place).factory, options, context);
}
std::shared_ptr<Task> Registry::make_task(const std::string& name, OptionReader& options,
                                          const TaskContext& context,
                                          const std::string& place) const {
  return call<Task>(lookup("task", name, place).factory, options, context);
}
std::shared_ptr<Tokenizer> Registry::make_tokenizer(const std::string& name,
                                                    OptionReader& options,
                                                    const std::string& place) const {
  return call<Tokenizer>(lookup("tokenizer", name, place).factory, options, NoContext{});
}
std::shared_ptr<torch::optim::Optimizer> Registry::make_optimizer(
    const std::string& name, OptionReader& options, const OptimizerContext& context,
    const std::string& place) const {
  return call<torch::optim::Optimizer>(lookup("optimizer", name, place).factory, options, context);
}
std::shared_ptr<Schedule> Registry::make_schedule(const std::string& name, OptionReader& options,
                                                  const ScheduleContext& context,
                                                  const std::string& place) const {
  return call<Schedule>(lookup("scheduler", name, place).factory, options, context);
}

const Registry::Entry& Registry::lookup(const std::string& kind, const std::string& name,
                                        const std::string& place) const {
  auto by_kind = entries_.find(kind);
  std::vector<std::string> known;
  if (by_kind != entries_.end()) {
    auto it = by_kind->second.find(name);
    if (it != by_kind->second.end()) return it->second;
    for (const auto& [n, e] : by_kind->second) known.push_back(n);
  }
  throw ConfigError(place, "unknown " + kind + " '" + name + "'" + did_you_mean(name, known) +
                               "; known: " + (known.empty() ? "none" : join_names(known)) +
                               " (is its plugin on the plugin path?)");
}

const ComponentInfo& Registry::find(const std::string& kind, const std::string& name,
                                    const std::string& place) const {
  return lookup(kind, name, place).info;
}

bool Registry::contains(const std::string& kind, const std::string& name) const {
  auto by_kind = entries_.find(kind);
  return by_kind != entries_.end() && by_kind->second.count(name) > 0;
}

std::vector<ComponentInfo> Registry::components() const {
  std::vector<ComponentInfo> out;
  for (const auto& [kind, by_name] : entries_) {
    for (const auto& [name, entry] : by_name) out.push_back(entry.info);
  }
  return out;
}

void Registry::remove_source(const std::string& source) {
  for (auto& [kind, by_name] : entries_) {
    for (auto it = by_name.begin(); it != by_name.end();) {
      it = it->second.info.source == source ? by_name.erase(it) : std::next(it);
    }
  }
}

}  // namespace lmforge
