#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lmforge/error.h"

namespace lmforge::io {
namespace {

void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) throw Error(path, std::string("cannot open for sync: ") + std::strerror(errno));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) throw Error(path, std::string("fsync failed: ") + std::strerror(saved));
}

}  // namespace

void sync_directory(const std::string& directory) {
  fsync_path(directory.empty() ? "." : directory, O_RDONLY | O_DIRECTORY);
}

void write_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  namespace fs = std::filesystem;
  fs::path target(path);
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  // Whatever fails below (a full disk, a file size limit, a read-only folder), the temporary
  // file goes and the target keeps its previous contents.
  auto discard = [&] {
    std::error_code ignored;
    fs::remove(temp, ignored);
  };
  try {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(temp, std::string("cannot create file: ") + std::strerror(errno));
    errno = 0;
    write(out);
    out.flush();
    int saved = errno;
    out.close();
    if (!out) {
      throw Error(path, std::string("write failed: ") +
                            (saved ? std::strerror(saved) : "stream error") + " (disk full?)");
    }
    fsync_path(temp, O_RDONLY);
  } catch (...) {
    discard();
    throw;
  }
  std::error_code ec;
  fs::rename(temp, target, ec);
  if (ec) {
    discard();
    throw Error(path, "cannot rename temporary file into place: " + ec.message());
  }
  sync_directory(target.has_parent_path() ? target.parent_path().string() : ".");
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_atomically(path, [&](std::ostream& out) { out << text; });
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, "cannot open file: " + std::string(std::strerror(errno)));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace lmforge::io
