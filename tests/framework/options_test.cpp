// YamlOptionReader: one options declaration maps YAML to a struct, rejects unknown and mistyped
// keys and out-of-range values with the recipe's file:line:col and a suggestion, and documents
// itself.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "config/config_node.h"
#include "config/error_list.h"
#include "config/suggest.h"
#include "config/yaml_options.h"
#include "lmforge/error.h"

namespace fs = std::filesystem;
using lmforge::ConfigError;
using lmforge::ConfigNode;
using lmforge::OptionVisitor;
using lmforge::YamlOptionReader;

namespace {

struct Inner {
  std::int64_t depth = 2;
  std::string mode = "fast";
  void visit(OptionVisitor& v) {
    v.field("depth", depth, "how deep").positive();
    v.choice("mode", mode, {"fast", "slow"}, "speed");
  }
};

struct SampleOptions {
  std::int64_t hidden_size = 200;
  double dropout = 0.1;
  double lr = 1e-3;
  bool tie = true;
  std::string name;
  std::string pooling = "mean";
  std::vector<std::string> parts;
  std::vector<std::int64_t> sizes{1, 2};
  std::int64_t layers = 0;
  lmforge::ComponentSpec optimizer{"adamw", nullptr};
  Inner inner;
  void visit(OptionVisitor& v) {
    v.field("hidden_size", hidden_size, "units per layer").positive();
    v.field("dropout", dropout, "drop probability").range(0, 1);
    v.field("lr", lr, "learning rate").positive();
    v.field("tie", tie, "tie weights");
    v.field("name", name, "a name");
    v.choice("pooling", pooling, {"mean", "max", "last", "concat"}, "how to pool");
    v.field("parts", parts, "parts");
    v.field("sizes", sizes, "sizes");
    v.field("layers", layers, "layer count").non_negative();
    v.component("optimizer", optimizer, "optimizer", "the optimizer");
    v.group(
        "inner", [this](OptionVisitor& g) { inner.visit(g); }, "nested group");
  }
};

struct RequiredOptions {
  std::string train;
  std::int64_t bptt = 35;
  void visit(OptionVisitor& v) {
    v.field("train", train, "training file").required();
    v.field("bptt", bptt, "window").positive();
  }
};

/// A YAML file on disk, parsed the way load_recipe parses recipes (marks included).
struct YamlFile {
  fs::path path;
  YAML::Node root;
  explicit YamlFile(const std::string& text) {
    std::random_device rd;
    path = fs::temp_directory_path() / ("lmforge_options_test_" + std::to_string(rd()) + ".yaml");
    std::ofstream(path) << text;
    root = YAML::LoadFile(path.string());
  }
  ~YamlFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
  ConfigNode node(const std::string& key) const {
    return ConfigNode(root[key], path.string(), key);
  }
  std::string at(int line, int col) const {
    return path.string() + ":" + std::to_string(line) + ":" + std::to_string(col);
  }
};

template <class Options>
Options read(const YamlFile& file, const std::string& key = "model") {
  YamlOptionReader reader(file.node(key), "backbone 'test'", {"type"});
  return lmforge::parse_options<Options>(reader);
}

/// what() of the ConfigError reading `text` throws.
template <class Options = SampleOptions>
std::string error_of(const YamlFile& file) {
  try {
    read<Options>(file);
  } catch (const ConfigError& e) {
    CHECK(e.code() == lmforge::ExitCode::kUsage);
    return e.what();
  }
  FAIL("no ConfigError");
  return "";
}

}  // namespace

TEST_CASE("options: every field type reads from YAML, absent keys keep defaults",
          "[config][options]") {
  YamlFile file(
      "model:\n"
      "  type: test\n"
      "  hidden_size: 64\n"
      "  dropout: 0.25\n"
      "  lr: 3e-4\n"
      "  tie: false\n"
      "  name: hello world\n"
      "  pooling: concat\n"
      "  parts: [tokenizer, backbone]\n"
      "  sizes: [3, 4, 5]\n"
      "  optimizer: {type: sgd, lr: 0.1}\n"
      "  inner: {depth: 7}\n");
  auto o = read<SampleOptions>(file);
  CHECK(o.hidden_size == 64);
  CHECK(o.dropout == Approx(0.25));
  CHECK(o.lr == Approx(3e-4));
  CHECK_FALSE(o.tie);
  CHECK(o.name == "hello world");
  CHECK(o.pooling == "concat");
  CHECK(o.parts == std::vector<std::string>{"tokenizer", "backbone"});
  CHECK(o.sizes == std::vector<std::int64_t>{3, 4, 5});
  CHECK(o.layers == 0);  // default kept
  CHECK(o.optimizer.type == "sgd");
  REQUIRE(o.optimizer.node);
  CHECK(o.optimizer.node->yaml()["lr"].as<double>() == Approx(0.1));
  CHECK(o.optimizer.node->key_path() == "model.optimizer");
  CHECK(o.inner.depth == 7);
  CHECK(o.inner.mode == "fast");

  YamlFile empty("model: {}\n");
  auto d = read<SampleOptions>(empty);
  CHECK(d.hidden_size == 200);
  CHECK(d.sizes == std::vector<std::int64_t>{1, 2});
  CHECK(d.optimizer.type == "adamw");
  CHECK_FALSE(d.optimizer.node);

  // A single value where a list is expected is refused, located, with the fix: read as a
  // one-element list, `parts: backbone,head` would be one odd part without a word.
  YamlFile single("model: {parts: backbone, sizes: 9}\n");
  std::string what = error_of(single);
  INFO(what);
  CHECK_THAT(what, Catch::Contains(single.at(1, 16) + ": option 'parts' expects a list, got "
                                                      "'backbone'; write [backbone]"));
  CHECK_THAT(what, Catch::Contains(single.at(1, 33) + ": option 'sizes' expects a list, got '9'"));
  YamlFile one("model: {parts: [backbone], sizes: [9]}\n");
  auto s = read<SampleOptions>(one);
  CHECK(s.parts == std::vector<std::string>{"backbone"});
  CHECK(s.sizes == std::vector<std::int64_t>{9});
}

TEST_CASE("options: an unknown key names file:line:col of the key and suggests the closest",
          "[config][options]") {
  YamlFile file(
      "model:\n"
      "  type: test\n"
      "  hidden_size: 64\n"
      "  dropuot: 0.5\n");
  std::string what = error_of(file);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(file.at(4, 3) + ": "));
  CHECK_THAT(what, Catch::Contains("unknown option 'dropuot'"));
  CHECK_THAT(what, Catch::Contains("backbone 'test'"));
  CHECK_THAT(what, Catch::Contains("did you mean 'dropout'?"));
  CHECK_THAT(what, Catch::Contains("known options: hidden_size, dropout"));

  // Inside a nested group the key is found too, with the group's own options suggested.
  YamlFile nested(
      "model:\n"
      "  inner:\n"
      "    depht: 3\n");
  std::string inner = error_of(nested);
  INFO(inner);
  CHECK_THAT(inner, Catch::StartsWith(nested.at(3, 5) + ": "));
  CHECK_THAT(inner, Catch::Contains("did you mean 'depth'?"));

  // Reserved keys are allowed without being fields; a far-off name gets no suggestion.
  YamlFile far("model: {type: x, qqqqqqqqqqqq: 1}\n");
  std::string w = error_of(far);
  CHECK_THAT(w, Catch::Contains("unknown option 'qqqqqqqqqqqq'"));
  CHECK_THAT(w, !Catch::Contains("did you mean"));
}

TEST_CASE("options: wrong types are refused at the value's place", "[config][options]") {
  SECTION("string for an integer") {
    YamlFile file("model:\n  hidden_size: big\n");
    std::string what = error_of(file);
    CHECK_THAT(what, Catch::StartsWith(file.at(2, 16) + ": "));
    CHECK_THAT(what, Catch::Contains("model.hidden_size expects an integer, got 'big'"));
  }
  SECTION("fraction for an integer") {
    YamlFile file("model:\n  hidden_size: 2.5\n");
    CHECK_THAT(error_of(file), Catch::Contains("expects an integer, got '2.5'"));
  }
  SECTION("list for a scalar") {
    YamlFile file("model:\n  dropout: [0.1, 0.2]\n");
    std::string what = error_of(file);
    CHECK_THAT(what, Catch::StartsWith(file.at(2, 12) + ": "));
    CHECK_THAT(what, Catch::Contains("model.dropout expects a single value, got 'a list'"));
  }
  SECTION("mapping for a string") {
    YamlFile file("model:\n  name: {a: 1}\n");
    CHECK_THAT(error_of(file), Catch::Contains("expects a single value, got 'a mapping'"));
  }
  SECTION("word for a bool") {
    YamlFile file("model:\n  tie: maybe\n");
    CHECK_THAT(error_of(file), Catch::Contains("model.tie expects true or false, got 'maybe'"));
  }
  SECTION("word for a number") {
    YamlFile file("model:\n  lr: fast\n");
    CHECK_THAT(error_of(file), Catch::Contains("model.lr expects a number, got 'fast'"));
  }
  SECTION("infinite number") {
    YamlFile file("model:\n  lr: .inf\n");
    CHECK_THAT(error_of(file), Catch::Contains("expects a finite number"));
  }
  SECTION("mapping for a list") {
    YamlFile file("model:\n  parts: {a: 1}\n");
    CHECK_THAT(error_of(file), Catch::Contains("model.parts expects a list"));
  }
  SECTION("nested list in a list of strings") {
    YamlFile file("model:\n  parts: [a, [b]]\n");
    CHECK_THAT(error_of(file), Catch::Contains("expects a list of strings"));
  }
  SECTION("word in a list of integers") {
    YamlFile file("model:\n  sizes: [1, two]\n");
    CHECK_THAT(error_of(file), Catch::Contains("expects a list of integers"));
  }
  SECTION("options given as a list") {
    YamlFile file("model:\n  - hidden_size: 3\n");
    std::string what = error_of(file);
    CHECK_THAT(what, Catch::StartsWith(file.at(2, 3) + ": "));
    CHECK_THAT(what, Catch::Contains("must be a mapping of options"));
  }
  SECTION("component given as a list") {
    YamlFile file("model:\n  optimizer: [sgd]\n");
    CHECK_THAT(error_of(file), Catch::Contains("expects a mapping with 'type:'"));
  }
  SECTION("component mapping without type") {
    YamlFile file("model:\n  optimizer: {lr: 0.1}\n");
    std::string what = error_of(file);
    CHECK_THAT(what, Catch::StartsWith(file.at(2, 14) + ": "));
    CHECK_THAT(what, Catch::Contains("model.optimizer needs a 'type:' naming a optimizer"));
  }
}

TEST_CASE("options: positive, non_negative and range are checked with the value",
          "[config][options]") {
  SECTION("positive") {
    YamlFile file("model:\n  hidden_size: 0\n");
    std::string what = error_of(file);
    CHECK_THAT(what, Catch::StartsWith(file.at(2, 16) + ": "));
    CHECK_THAT(what, Catch::Contains("option 'model.hidden_size' must be greater than 0, got 0"));
  }
  SECTION("positive double") {
    YamlFile file("model:\n  lr: -0.5\n");
    CHECK_THAT(error_of(file), Catch::Contains("'model.lr' must be greater than 0, got -0.5"));
  }
  SECTION("non_negative") {
    YamlFile file("model:\n  layers: -1\n");
    CHECK_THAT(error_of(file), Catch::Contains("'model.layers' must be 0 or greater, got -1"));
  }
  SECTION("range above") {
    YamlFile file("model:\n  dropout: 1.5\n");
    std::string what = error_of(file);
    CHECK_THAT(what, Catch::StartsWith(file.at(2, 12) + ": "));
    CHECK_THAT(what, Catch::Contains("'model.dropout' must be between 0 and 1, got 1.5"));
  }
  SECTION("range below") {
    YamlFile file("model:\n  dropout: -0.1\n");
    CHECK_THAT(error_of(file), Catch::Contains("must be between 0 and 1"));
  }
  SECTION("range bounds are inclusive") {
    YamlFile file("model:\n  dropout: 1\n  layers: 0\n");
    auto o = read<SampleOptions>(file);
    CHECK(o.dropout == 1.0);
    CHECK(o.layers == 0);
  }
  SECTION("constraint in a nested group") {
    YamlFile file("model:\n  inner: {depth: -2}\n");
    CHECK_THAT(error_of(file), Catch::Contains("'model.inner.depth' must be greater than 0"));
  }
}

TEST_CASE("options: required keys must be given", "[config][options]") {
  YamlFile file(
      "model:\n"
      "  type: language_modeling\n"
      "  bptt: 10\n");
  std::string what = error_of<RequiredOptions>(file);
  INFO(what);
  CHECK_THAT(what, Catch::Contains("missing required option 'model.train'"));
  // The place is the mapping that lacks the key.
  CHECK_THAT(what, Catch::StartsWith(file.at(2, 3) + ": "));

  // Null counts as missing; given counts as given.
  YamlFile null_value("model: {train: ~}\n");
  CHECK_THAT(error_of<RequiredOptions>(null_value), Catch::Contains("missing required option"));
  YamlFile ok("model: {train: a.txt}\n");
  CHECK(read<RequiredOptions>(ok).train == "a.txt");
  // The scalar shorthand (only a type) has no options, so required ones are missing.
  YamlFile shorthand("model: language_modeling\n");
  CHECK_THAT(error_of<RequiredOptions>(shorthand), Catch::Contains("missing required option"));
}

TEST_CASE("options: a choice outside the allowed values lists them and suggests one",
          "[config][options]") {
  YamlFile file("model:\n  pooling: concta\n");
  std::string what = error_of(file);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(file.at(2, 12) + ": "));
  CHECK_THAT(what, Catch::Contains("model.pooling must be one of mean, max, last, concat"));
  CHECK_THAT(what, Catch::Contains("got 'concta'"));
  CHECK_THAT(what, Catch::Contains("did you mean 'concat'?"));

  YamlFile nested("model:\n  inner: {mode: slwo}\n");
  CHECK_THAT(error_of(nested), Catch::Contains("did you mean 'slow'?"));
}

TEST_CASE("options: a component may be given as its type name alone", "[config][options]") {
  YamlFile file("model:\n  optimizer: sgd\n");
  auto o = read<SampleOptions>(file);
  CHECK(o.optimizer.type == "sgd");
  REQUIRE(o.optimizer.node);
  CHECK(o.optimizer.node->yaml().IsScalar());
  CHECK(lmforge::component_place(o.optimizer) == file.at(2, 14));

  // Its options reader then reads an empty mapping: defaults, no error.
  auto reader = lmforge::component_reader(o.optimizer, "optimizer 'sgd'");
  SampleOptions inner = lmforge::parse_options<SampleOptions>(reader);
  CHECK(inner.hidden_size == 200);
  // And a whole options block given as a bare scalar is the same shorthand.
  YamlFile bare("model: lstm\n");
  CHECK(read<SampleOptions>(bare).hidden_size == 200);
  // Without a node the place is generic.
  CHECK(lmforge::component_place(lmforge::ComponentSpec{"adamw", nullptr}) == "recipe");
}

TEST_CASE("options: describe_options lists fields with types, defaults and constraints",
          "[config][options]") {
  auto docs = lmforge::describe_options([](OptionVisitor& v) {
    SampleOptions defaults;
    defaults.visit(v);
  });
  auto find = [&](const std::string& name) -> const lmforge::OptionDoc& {
    for (const auto& d : docs) {
      if (d.name == name) return d;
    }
    FAIL("no doc for " << name);
    return docs.front();
  };
  REQUIRE(docs.size() == 13);            // 10 fields, the group, and the group's 2 fields
  CHECK(docs[0].name == "hidden_size");  // declaration order
  const auto& hidden = find("hidden_size");
  CHECK(hidden.type == "int");
  CHECK(hidden.default_value == "200");
  CHECK(hidden.help == "units per layer");
  CHECK(hidden.constraint == "> 0");
  CHECK(find("dropout").type == "float");
  CHECK(find("dropout").default_value == "0.1");
  CHECK(find("dropout").constraint == "in [0, 1]");
  CHECK(find("layers").constraint == ">= 0");
  CHECK(find("tie").type == "bool");
  CHECK(find("tie").default_value == "true");
  CHECK(find("name").default_value == "\"\"");
  CHECK(find("pooling").type == "one of {mean, max, last, concat}");
  CHECK(find("pooling").default_value == "mean");
  CHECK(find("parts").type == "list[string]");
  CHECK(find("sizes").default_value == "[1, 2]");
  CHECK(find("optimizer").type == "optimizer {type: ...}");
  CHECK(find("optimizer").default_value == "adamw");
  CHECK(find("inner").type == "mapping");
  CHECK(find("inner.depth").default_value == "2");
  CHECK(find("inner.depth").constraint == "> 0");
  CHECK(find("inner.mode").type == "one of {fast, slow}");

  auto required = lmforge::describe_options([](OptionVisitor& v) {
    RequiredOptions defaults;
    defaults.visit(v);
  });
  REQUIRE(required.size() == 2);
  CHECK(required[0].constraint == "required");
}

TEST_CASE("suggest: closest match within a third of the word", "[config][suggest]") {
  std::vector<std::string> names{"hidden_size", "dropout", "layers"};
  CHECK(lmforge::closest_match("dropuot", names) == "dropout");
  CHECK(lmforge::closest_match("Layers", names) == "layers");  // case-insensitive
  CHECK(lmforge::closest_match("hiden_size", names) == "hidden_size");
  CHECK(lmforge::closest_match("zzzzzzzzz", names).empty());
  CHECK(lmforge::closest_match("x", {}).empty());
  CHECK(lmforge::did_you_mean("dropuot", names) == " (did you mean 'dropout'?)");
  CHECK(lmforge::did_you_mean("zzzzzzzzz", names).empty());
  CHECK(lmforge::join_names({"a", "b", "c"}) == "a, b, c");
  CHECK(lmforge::join_names({}).empty());
}

TEST_CASE("options: every mistake of a mapping is reported at once, each at its place",
          "[config][options]") {
  YamlFile file(
      "model:\n"
      "  type: test\n"
      "  hiden_size: 64\n"
      "  dropout: 2\n"
      "  sizes: [3, ten]\n"
      "  pooling: avg\n"
      "  inner: {depth: 0}\n");
  try {
    read<SampleOptions>(file);
    FAIL("no error");
  } catch (const lmforge::ErrorList& e) {
    CHECK(e.code() == lmforge::ExitCode::kUsage);
    const auto& lines = e.lines();
    REQUIRE(lines.size() == 5);
    // In file order: line 3 the misspelt key, then dropout, sizes, pooling and the nested depth.
    CHECK_THAT(lines[0], Catch::StartsWith(file.at(3, 3)) && Catch::Contains("hiden_size") &&
                             Catch::Contains("did you mean 'hidden_size'?"));
    CHECK_THAT(lines[1], Catch::StartsWith(file.at(4, 12)) && Catch::Contains("between 0 and 1"));
    // The element, not the list: got 'ten', not 'a list'.
    CHECK_THAT(lines[2], Catch::StartsWith(file.at(5, 10)) && Catch::Contains("got 'ten'"));
    CHECK_THAT(lines[3], Catch::StartsWith(file.at(6, 12)) && Catch::Contains("got 'avg'"));
    CHECK_THAT(lines[4], Catch::Contains("depth") && Catch::Contains("greater than 0"));
  }
}

TEST_CASE("options: a list field's constraint applies to each element", "[config][options]") {
  struct Widths {
    std::vector<std::int64_t> widths{3, 4, 5};
    void visit(OptionVisitor& v) { v.field("widths", widths, "filter widths").positive(); }
  };
  YamlFile file("model: {widths: [3, 0, 5]}\n");
  const std::string what = error_of<Widths>(file);
  CHECK_THAT(what, Catch::Contains("model.widths[1]' must be greater than 0, got 0"));
  YamlFile fine("model: {widths: [2, 6]}\n");
  CHECK(read<Widths>(fine).widths == std::vector<std::int64_t>{2, 6});
}

TEST_CASE("options: check_options applies the declared ranges to a struct built in C++",
          "[config][options]") {
  SampleOptions o;
  CHECK_NOTHROW(lmforge::check_options(o, "sample"));
  o.dropout = 1.5;
  try {
    lmforge::check_options(o, "sample");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(e.place().empty());  // the recipe reader or `validate` adds the component's place
    CHECK(std::string(e.what()) == "sample: dropout must be between 0 and 1, got 1.5");
  }
  o = {};
  o.pooling = "median";
  CHECK_THROWS_WITH(lmforge::check_options(o, "sample"),
                    Catch::Contains("pooling must be one of mean, max, last, concat"));
  o = {};
  o.inner.depth = 0;
  CHECK_THROWS_WITH(lmforge::check_options(o, "sample"), Catch::Contains("sample.inner: depth"));
}
