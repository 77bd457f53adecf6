// hashtag: classifies texts whose label is written in the text itself as its last hashtag
// ("what a wonderful film #pos"), the way social-media data often arrives. The hashtag is the
// label and is cut from the text the model sees. Everything but reading the file comes from the
// SDK's LabelledTask: label set, sampling, batches, loss, metrics, summary and predict.
#include <set>
#include <string>
#include <vector>

#include "lmforge/error.h"
#include "lmforge/labelled_task.h"
#include "lmforge/plugin.h"
#include "lmforge/text_file.h"
#include "lmforge/text_util.h"

namespace hashtag_plugin {

struct HashtagOptions : lmforge::LabelledDataOptions {
  void visit(lmforge::OptionVisitor& v) {
    visit_data(v, "one text per line ending in its label as a hashtag: 'text #label'",
               Unit::kExamples);
  }
};

class HashtagTask : public lmforge::LabelledTask {
 public:
  using Options = HashtagOptions;

  HashtagTask(const Options& options, const lmforge::TaskContext& context)
      : LabelledTask(context, traits(), options), options_(options) {}

  void prepare(lmforge::Tokenizer& tokenizer, bool fit_vocabulary) override {
    auto train = read(options_.train, "train");
    std::set<std::string> unique;
    for (const auto& r : train) unique.insert(r.label);
    set_labels({unique.begin(), unique.end()});
    std::vector<std::int64_t> ids;
    for (const auto& r : train) ids.push_back(label_id(r.label, r.where));
    auto selection = select_training(train.size(), ids);
    if (fit_vocabulary) {
      for (auto i : selection.train) tokenizer.count(train[i].text);
      tokenizer.build_vocabulary();
    }
    std::vector<Example> examples;
    for (auto i : selection.train) examples.push_back(encode(tokenizer, train[i].text, ids[i]));
    set_examples("train", std::move(examples));
    for (const auto& [split, path] :
         {std::pair<std::string, std::string>{"valid", options_.valid}, {"test", options_.test}}) {
      if (path.empty()) continue;
      std::vector<Example> eval;
      for (const auto& r : read(path, split)) {
        eval.push_back(encode(tokenizer, r.text, label_id(r.label, r.where)));
      }
      set_examples(split, std::move(eval));
    }
  }

 protected:
  std::vector<Example> encode_for_prediction(const lmforge::Tokenizer& tokenizer,
                                             const std::string& text,
                                             std::vector<std::string>&) const override {
    return {encode(tokenizer, text, 0)};
  }

 private:
  struct Record {
    std::string label, text, where;
  };

  static Traits traits() {
    Traits t;
    t.task_name = "hashtag";
    t.granularity = Granularity::kText;
    t.head_hint = "a pooled head such as 'classifier'";
    t.label_noun = "hashtag";
    t.accuracy_name = "accuracy";
    t.stream_base = 100;
    return t;
  }

  std::vector<Record> read(const std::string& path, const std::string& option) const {
    lmforge::require_readable_file(path, option, context().place);
    std::vector<Record> records;
    lmforge::for_each_line(
        path, options_.encoding, context().place, [&](const std::string& line, std::int64_t n) {
          if (lmforge::text_util::blank(line)) return;
          auto hash = line.rfind('#');
          std::string where = lmforge::text_util::where(path, n);
          if (hash == std::string::npos || hash + 1 == line.size()) {
            throw lmforge::DataError(where, "expected the text to end in '#label'");
          }
          records.push_back(
              {lmforge::text_util::trim(line.substr(hash + 1)), line.substr(0, hash), where});
        });
    return records;
  }

  Example encode(const lmforge::Tokenizer& tokenizer, const std::string& text,
                 std::int64_t label) const {
    Example example{tokenizer.encode(text), {label}};
    if (example.ids.size() > static_cast<std::size_t>(options_.max_length)) {
      example.ids.resize(static_cast<std::size_t>(options_.max_length));
    }
    if (example.ids.empty()) example.ids.push_back(lmforge::Vocabulary::kUnk);
    return example;
  }

  Options options_;
};

}  // namespace hashtag_plugin

LMFORGE_PLUGIN(hashtag_task) {
  reg.task<hashtag_plugin::HashtagTask>("hashtag", "labels texts by their closing #hashtag");
}
