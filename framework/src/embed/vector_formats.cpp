#include "embed/vector_formats.h"

namespace lmforge::embed {

const std::vector<std::string>& vector_file_formats() {
  static const std::vector<std::string> formats{"word2vec", "word2vec-binary", "glove"};
  return formats;
}

WordVectors load_vector_file(const std::string& path, const std::string& format) {
  if (format == "glove") return WordVectors::load_glove(path);
  return WordVectors::load_word2vec(path, format == "word2vec-binary");
}

}  // namespace lmforge::embed
