#include "config/yaml_options.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "config/error_list.h"
#include "config/suggest.h"
#include "lmforge/error.h"

namespace lmforge {
namespace {

std::string scalar_text(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

/// Runs after a field is read; checks constraints against the values already stored (one for a
/// number, each element for a list of numbers), recording each violation.
class ReadCheck : public FieldCheck {
 public:
  explicit ReadCheck(ErrorCollector& errors) : errors_(errors) {}
  void bind(std::string place, std::string key, std::vector<double> numbers, bool is_list,
            bool present) {
    place_ = std::move(place);
    key_ = std::move(key);
    numbers_ = std::move(numbers);
    is_list_ = is_list;
    present_ = present;
  }
  FieldCheck& positive() override {
    return check([](double x) { return x > 0; }, "must be greater than 0");
  }
  FieldCheck& non_negative() override {
    return check([](double x) { return x >= 0; }, "must be 0 or greater");
  }
  FieldCheck& range(double lo, double hi) override {
    std::ostringstream why;
    why << "must be between " << lo << " and " << hi;
    return check([lo, hi](double x) { return x >= lo && x <= hi; }, why.str());
  }
  FieldCheck& required() override {
    if (!present_) errors_.add(ConfigError(place_, "missing required option '" + key_ + "'"));
    return *this;
  }

 private:
  template <class Ok>
  FieldCheck& check(Ok ok, const std::string& why) {
    if (!present_) return *this;
    for (std::size_t i = 0; i < numbers_.size(); ++i) {
      if (ok(numbers_[i])) continue;
      std::ostringstream msg;
      msg << "option '" << key_;
      if (is_list_) msg << "[" << i << "]";
      msg << "' " << why << ", got " << numbers_[i];
      errors_.add(ConfigError(place_, msg.str()));
    }
    return *this;
  }
  ErrorCollector& errors_;
  std::string place_, key_;
  std::vector<double> numbers_;
  bool is_list_ = false;
  bool present_ = false;
};

class ReadingVisitor : public OptionVisitor {
 public:
  ReadingVisitor(const ConfigNode& node, std::string what, ErrorCollector& errors)
      : node_(node), what_(std::move(what)), errors_(errors), check_(errors) {}

  FieldCheck& field(const char* name, std::int64_t& value, const char* /*help*/) override {
    return scalar(name, [&](const YAML::Node& n, const std::string& place) {
      try {
        value = n.as<std::int64_t>();
      } catch (const YAML::Exception&) {
        throw type_error(place, name, "an integer", n);
      }
      numbers_ = {static_cast<double>(value)};
    });
  }
  FieldCheck& field(const char* name, double& value, const char* /*help*/) override {
    return scalar(name, [&](const YAML::Node& n, const std::string& place) {
      try {
        value = n.as<double>();
      } catch (const YAML::Exception&) {
        throw type_error(place, name, "a number", n);
      }
      if (!std::isfinite(value)) throw type_error(place, name, "a finite number", n);
      numbers_ = {value};
    });
  }
  FieldCheck& field(const char* name, bool& value, const char* /*help*/) override {
    return scalar(name, [&](const YAML::Node& n, const std::string& place) {
      try {
        value = n.as<bool>();
      } catch (const YAML::Exception&) {
        throw type_error(place, name, "true or false", n);
      }
    });
  }
  FieldCheck& field(const char* name, std::string& value, const char* /*help*/) override {
    return scalar(name, [&](const YAML::Node& n, const std::string&) { value = n.Scalar(); });
  }
  FieldCheck& field(const char* name, std::vector<std::string>& value,
                    const char* /*help*/) override {
    return list(name, [&](const YAML::Node& n, const std::string& place) {
      value.clear();
      for (const auto& item : n) {
        if (!item.IsScalar()) throw type_error(place, name, "a list of strings", item);
        value.push_back(item.Scalar());
      }
    });
  }
  FieldCheck& field(const char* name, std::vector<std::int64_t>& value,
                    const char* /*help*/) override {
    return list(name, [&](const YAML::Node& n, const std::string& place) {
      value.clear();
      for (const auto& item : n) {
        try {
          value.push_back(item.as<std::int64_t>());
        } catch (const YAML::Exception&) {
          // Name the element, not the list: `widths: abc` got 'abc', not 'a list'.
          throw type_error(place, name, "a list of integers", item);
        }
        numbers_.push_back(static_cast<double>(value.back()));
      }
    });
  }
  FieldCheck& choice(const char* name, std::string& value, const std::vector<std::string>& allowed,
                     const char* help) override {
    const std::size_t before = errors_.size();
    FieldCheck& check = field(name, value, help);
    if (errors_.size() == before &&
        std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      errors_.add(ConfigError(last_place_, key(name) + " must be one of " + join_names(allowed) +
                                               ", got '" + value + "'" +
                                               did_you_mean(value, allowed)));
    }
    return check;
  }
  FieldCheck& group(const char* name, const std::function<void(OptionVisitor&)>& visit,
                    const char* /*help*/) override {
    declare(name);
    ConfigNode child = node_.child(name);
    bool present = child.yaml().IsDefined() && !child.yaml().IsNull();
    if (present) {
      YamlOptionReader reader(child, key(name), {});
      errors_.attempt([&] { reader.read(visit); });
    }
    return bind(name, child, present, false);
  }
  FieldCheck& component(const char* name, ComponentSpec& value, const char* kind,
                        const char* /*help*/) override {
    declare(name);
    ConfigNode child = node_.child(name);
    bool present = child.yaml().IsDefined() && !child.yaml().IsNull();
    if (present) {
      const YAML::Node& n = child.yaml();
      if (n.IsScalar()) {
        // `optimizer: adamw` is shorthand for `optimizer: {type: adamw}`.
        value.type = n.Scalar();
      } else if (n.IsMap() && n["type"] && n["type"].IsScalar()) {
        value.type = n["type"].Scalar();
      } else if (n.IsMap()) {
        errors_.add(ConfigError(child.place(),
                                key(name) + " needs a 'type:' naming a " + std::string(kind)));
        return bind(name, child, false, false);
      } else {
        errors_.add(type_error(child.place(), name, "a mapping with 'type:'", n));
        return bind(name, child, false, false);
      }
      value.node = std::make_shared<const ConfigNode>(child);
    }
    return bind(name, child, present, false);
  }

  void check_unknown_keys(const std::vector<std::string>& reserved) const {
    const YAML::Node& map = node_.yaml();
    if (!map.IsDefined() || map.IsNull()) return;
    for (auto it = map.begin(); it != map.end(); ++it) {
      std::string k = it->first.Scalar();
      if (declared_.count(k) || std::find(reserved.begin(), reserved.end(), k) != reserved.end()) {
        continue;
      }
      std::vector<std::string> known(declared_order_.begin(), declared_order_.end());
      for (const auto& reserved_key : reserved) known.push_back(reserved_key);
      errors_.add(ConfigError(
          node_.place_of(it->first),
          "unknown option '" + k + "' in " + what_ + did_you_mean(k, known) +
              (known.empty() ? "; it takes no options" : "; known options: " + join_names(known))));
    }
  }

 private:
  std::string key(const char* name) const {
    return node_.key_path().empty() ? name : node_.key_path() + "." + name;
  }
  void declare(const char* name) {
    if (declared_.insert(name).second) declared_order_.push_back(name);
  }
  ConfigError type_error(const std::string& place, const char* name, const std::string& expected,
                         const YAML::Node& got) const {
    return ConfigError(place,
                       key(name) + " expects " + expected + ", got '" + scalar_text(got) + "'");
  }
  FieldCheck& bind(const char* name, const ConfigNode& child, bool present, bool is_list) {
    last_place_ = present ? child.place() : node_.place();
    check_.bind(last_place_, key(name), std::move(numbers_), is_list, present);
    numbers_.clear();
    return check_;
  }
  template <class Read>
  FieldCheck& scalar(const char* name, Read read) {
    declare(name);
    ConfigNode child = node_.child(name);
    const YAML::Node& n = child.yaml();
    bool present = n.IsDefined() && !n.IsNull();
    numbers_.clear();
    if (present) {
      // A mistyped value is recorded and the field counts as absent, so its constraints (which
      // would check the default) stay quiet.
      present = errors_.attempt([&] {
        if (!n.IsScalar()) throw type_error(child.place(), name, "a single value", n);
        read(n, child.place());
      });
    }
    return bind(name, child, present, false);
  }
  template <class Read>
  FieldCheck& list(const char* name, Read read) {
    declare(name);
    ConfigNode child = node_.child(name);
    const YAML::Node& n = child.yaml();
    bool present = n.IsDefined() && !n.IsNull();
    numbers_.clear();
    if (present) {
      present = errors_.attempt([&] {
        if (n.IsSequence()) {
          read(n, child.place());
        } else if (n.IsScalar()) {
          // Not taken as a one-element list: `freeze: backbone,head` or `widths: 3 4 5` would
          // then be read as one odd element without a word.
          throw ConfigError(child.place(), "option '" + std::string(name) +
                                               "' expects a list, got '" + n.Scalar() +
                                               "'; write [" + n.Scalar() + "] for a list of one");
        } else {
          throw type_error(child.place(), name, "a list", n);
        }
      });
    }
    return bind(name, child, present, true);
  }

  const ConfigNode& node_;
  std::string what_;
  ErrorCollector& errors_;
  std::set<std::string> declared_;
  std::vector<std::string> declared_order_;
  ReadCheck check_;
  std::vector<double> numbers_;  // the field just read, for its constraints
  std::string last_place_;
};

/// Records what each declaration says, for --describe.
class DescribingVisitor : public OptionVisitor {
 public:
  explicit DescribingVisitor(std::vector<OptionDoc>& docs, std::string prefix = "")
      : docs_(docs), prefix_(std::move(prefix)) {}

  FieldCheck& field(const char* name, std::int64_t& v, const char* help) override {
    return add(name, "int", std::to_string(v), help);
  }
  FieldCheck& field(const char* name, double& v, const char* help) override {
    std::ostringstream s;
    s << v;
    return add(name, "float", s.str(), help);
  }
  FieldCheck& field(const char* name, bool& v, const char* help) override {
    return add(name, "bool", v ? "true" : "false", help);
  }
  FieldCheck& field(const char* name, std::string& v, const char* help) override {
    return add(name, "string", v.empty() ? "\"\"" : v, help);
  }
  FieldCheck& field(const char* name, std::vector<std::string>& v, const char* help) override {
    return add(name, "list[string]", "[" + join_names(v) + "]", help);
  }
  FieldCheck& field(const char* name, std::vector<std::int64_t>& v, const char* help) override {
    std::vector<std::string> items;
    for (auto x : v) items.push_back(std::to_string(x));
    return add(name, "list[int]", "[" + join_names(items) + "]", help);
  }
  FieldCheck& choice(const char* name, std::string& v, const std::vector<std::string>& allowed,
                     const char* help) override {
    return add(name, "one of {" + join_names(allowed) + "}", v, help);
  }
  FieldCheck& group(const char* name, const std::function<void(OptionVisitor&)>& visit,
                    const char* help) override {
    add(name, "mapping", "", help);
    DescribingVisitor inner(docs_, prefix_ + name + ".");
    visit(inner);
    return check_;
  }
  FieldCheck& component(const char* name, ComponentSpec& v, const char* kind,
                        const char* help) override {
    return add(name, std::string(kind) + " {type: ...}", v.type, help);
  }

 private:
  class DocCheck : public FieldCheck {
   public:
    std::vector<OptionDoc>* docs = nullptr;
    std::size_t index = 0;  // an index, not a pointer: the vector grows as fields are declared
    FieldCheck& positive() override { return note("> 0"); }
    FieldCheck& non_negative() override { return note(">= 0"); }
    FieldCheck& range(double lo, double hi) override {
      std::ostringstream s;
      s << "in [" << lo << ", " << hi << "]";
      return note(s.str());
    }
    FieldCheck& required() override { return note("required"); }

   private:
    FieldCheck& note(const std::string& text) {
      if (docs) {
        std::string& constraint = (*docs)[index].constraint;
        constraint += (constraint.empty() ? "" : ", ") + text;
      }
      return *this;
    }
  };
  FieldCheck& add(const char* name, std::string type, std::string def, const char* help) {
    docs_.push_back(OptionDoc{prefix_ + name, std::move(type), std::move(def), help, ""});
    check_.docs = &docs_;
    check_.index = docs_.size() - 1;
    return check_;
  }
  std::vector<OptionDoc>& docs_;
  std::string prefix_;
  DocCheck check_;
};

}  // namespace

YamlOptionReader::YamlOptionReader(ConfigNode node, std::string what,
                                   std::vector<std::string> reserved)
    : node_(std::move(node)), what_(std::move(what)), reserved_(std::move(reserved)) {}

void YamlOptionReader::read(const std::function<void(OptionVisitor&)>& visit) {
  const YAML::Node& n = node_.yaml();
  bool empty = !n.IsDefined() || n.IsNull() || n.IsScalar();  // scalar = `type` shorthand
  if (!empty && !n.IsMap()) {
    throw ConfigError(node_.place(), what_ + " must be a mapping of options");
  }
  ErrorCollector errors;
  if (empty) {
    ConfigNode blank(YAML::Node(YAML::NodeType::Map), node_.file(), node_.key_path());
    ReadingVisitor visitor(blank, what_, errors);
    errors.attempt([&] { visit(visitor); });
    errors.throw_if_any();
    return;
  }
  ReadingVisitor visitor(node_, what_, errors);
  errors.attempt([&] { visit(visitor); });
  visitor.check_unknown_keys(reserved_);
  errors.throw_if_any();
}

std::vector<OptionDoc> describe_options(const std::function<void(OptionVisitor&)>& visit) {
  std::vector<OptionDoc> docs;
  DescribingVisitor visitor(docs);
  visit(visitor);
  return docs;
}

YamlOptionReader component_reader(const ComponentSpec& spec, const std::string& what) {
  if (spec.node) return YamlOptionReader(*spec.node, what, {"type"});
  return YamlOptionReader(ConfigNode(YAML::Node(), "", ""), what, {"type"});
}

std::string component_place(const ComponentSpec& spec) {
  return spec.node ? spec.node->place() : std::string("recipe");
}

}  // namespace lmforge
