#include <algorithm>
#include <sstream>

#include "lmforge/error.h"
#include "lmforge/options.h"

namespace lmforge {
namespace {

// Applies each declared constraint to the value the struct holds now.
class CheckingVisitor : public OptionVisitor {
 public:
  explicit CheckingVisitor(std::string what) : what_(std::move(what)) {}

  FieldCheck& field(const char* name, std::int64_t& v, const char*) override {
    return check_.at(name, {static_cast<double>(v)});
  }
  FieldCheck& field(const char* name, double& v, const char*) override {
    return check_.at(name, {v});
  }
  FieldCheck& field(const char* name, bool&, const char*) override { return check_.at(name, {}); }
  FieldCheck& field(const char* name, std::string&, const char*) override {
    return check_.at(name, {});
  }
  FieldCheck& field(const char* name, std::vector<std::string>&, const char*) override {
    return check_.at(name, {});
  }
  FieldCheck& field(const char* name, std::vector<std::int64_t>& v, const char*) override {
    return check_.at(name, std::vector<double>(v.begin(), v.end()));
  }
  FieldCheck& choice(const char* name, std::string& v, const std::vector<std::string>& allowed,
                     const char*) override {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw ConfigError("", what_ + ": " + name + " must be one of " + list + ", got '" + v + "'");
    }
    return check_.at(name, {});
  }
  FieldCheck& group(const char* name, const std::function<void(OptionVisitor&)>& visit,
                    const char*) override {
    check_declared(visit, what_ + "." + name);
    return check_.at(name, {});
  }
  FieldCheck& component(const char* name, ComponentSpec&, const char*, const char*) override {
    return check_.at(name, {});
  }

 private:
  class Check : public FieldCheck {
   public:
    explicit Check(const std::string& what) : what_(what) {}
    Check& at(const char* name, std::vector<double> values) {
      name_ = name;
      values_ = std::move(values);
      return *this;
    }
    FieldCheck& positive() override {
      return test([](double x) { return x > 0; }, "must be greater than 0");
    }
    FieldCheck& non_negative() override {
      return test([](double x) { return x >= 0; }, "must be 0 or greater");
    }
    FieldCheck& range(double lo, double hi) override {
      std::ostringstream why;
      why << "must be between " << lo << " and " << hi;
      return test([=](double x) { return x >= lo && x <= hi; }, why.str());
    }
    FieldCheck& required() override { return *this; }  // a value in a struct is always there

   private:
    template <class Ok>
    FieldCheck& test(Ok ok, const std::string& why) {
      for (double x : values_) {
        if (ok(x)) continue;
        std::ostringstream msg;
        msg << what_ << ": " << name_ << " " << why << ", got " << x;
        throw ConfigError("", msg.str());
      }
      return *this;
    }
    const std::string& what_;
    std::string name_;
    std::vector<double> values_;
  };
  std::string what_;
  Check check_{what_};
};

}  // namespace

void check_declared(const std::function<void(OptionVisitor&)>& visit, const std::string& what) {
  CheckingVisitor visitor(what);
  visit(visitor);
}

}  // namespace lmforge
