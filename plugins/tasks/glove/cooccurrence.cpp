#include "cooccurrence.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <queue>
#include <system_error>

#include "lmforge/error.h"
#include "record_io.h"

namespace lmforge::glove {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kPendingBytes = 16;  // sizeof(Pending): two ids and a double

std::uint64_t key_of(std::int32_t word, std::int32_t context) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(word)) << 32) |
         static_cast<std::uint32_t>(context);
}

// Cells of the dense table when pairs of ranks with a * b <= product are kept, over `words`
// ranks.
std::int64_t dense_cells(std::int64_t product, std::int64_t words) {
  std::int64_t cells = 0;
  for (std::int64_t a = 1; a <= std::min(words, product); ++a) {
    cells += std::min(words, product / a);
  }
  return cells;
}

// The largest rank product whose table fits in `bytes`.
std::int64_t fitting_product(std::int64_t bytes, std::int64_t words) {
  const std::int64_t cells = bytes / static_cast<std::int64_t>(sizeof(double));
  if (words <= 0 || cells <= 0) return 0;
  if (words <= cells / words) return words * words;  // the whole square fits
  std::int64_t lo = 0, hi = words * words;
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo + 1) / 2;
    if (dense_cells(mid, words) <= cells) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

}  // namespace

CooccurrenceCounter::CooccurrenceCounter(std::int64_t vocab_size, std::int64_t first_word,
                                         CooccurrenceOptions options)
    : first_word_(first_word),
      words_(std::max<std::int64_t>(0, vocab_size - first_word)),
      options_(std::move(options)) {
  const std::int64_t dense_bytes = options_.memory_bytes / 4 * 3;
  max_product_ = fitting_product(dense_bytes, words_);
  const std::int64_t rows = std::min(words_, max_product_);
  row_start_.assign(static_cast<std::size_t>(rows + 2), 0);
  for (std::int64_t a = 1; a <= rows; ++a) {
    row_start_[static_cast<std::size_t>(a + 1)] =
        row_start_[static_cast<std::size_t>(a)] + std::min(words_, max_product_ / a);
  }
  dense_ = ZeroedTable(static_cast<std::size_t>(row_start_[static_cast<std::size_t>(rows + 1)]));
  // The buffer takes the rest; at least a window's worth so one position never spills twice.
  const std::int64_t left = options_.memory_bytes - static_cast<std::int64_t>(dense_.size() * 8);
  buffer_capacity_ = std::max<std::size_t>(static_cast<std::size_t>(4 * options_.window + 4),
                                           static_cast<std::size_t>(left) / kPendingBytes);
  buffer_.reserve(buffer_capacity_);
}

CooccurrenceCounter::~CooccurrenceCounter() {
  std::error_code ec;
  for (const auto& run : runs_) fs::remove(run, ec);
}

void CooccurrenceCounter::add(std::int64_t word, std::int64_t context, double weight) {
  const std::int64_t a = word - first_word_ + 1;
  const std::int64_t b = context - first_word_ + 1;
  if (a <= max_product_ / b) {  // a * b <= max_product without overflow
    dense_[static_cast<std::size_t>(row_start_[static_cast<std::size_t>(a)] + b - 1)] += weight;
    return;
  }
  buffer_.push_back(
      Pending{static_cast<std::int32_t>(word), static_cast<std::int32_t>(context), weight});
  if (buffer_.size() >= buffer_capacity_) spill();
}

void CooccurrenceCounter::add_sentence(const std::int32_t* ids, std::size_t length) {
  const auto window = static_cast<std::size_t>(options_.window);
  for (std::size_t i = 1; i < length; ++i) {
    const std::size_t reach = std::min(window, i);
    for (std::size_t d = 1; d <= reach; ++d) {
      const double weight = options_.distance_weighting ? 1.0 / static_cast<double>(d) : 1.0;
      add(ids[i - d], ids[i], weight);
      if (options_.symmetric) add(ids[i], ids[i - d], weight);
    }
  }
  tokens_ += static_cast<std::int64_t>(length);
}

void CooccurrenceCounter::collapse_buffer() {
  std::sort(buffer_.begin(), buffer_.end(), [](const Pending& x, const Pending& y) {
    return key_of(x.word, x.context) < key_of(y.word, y.context);
  });
  std::size_t out = 0;
  for (std::size_t i = 0; i < buffer_.size(); ++i) {
    if (out > 0 && buffer_[out - 1].word == buffer_[i].word &&
        buffer_[out - 1].context == buffer_[i].context) {
      buffer_[out - 1].count += buffer_[i].count;
    } else {
      buffer_[out++] = buffer_[i];
    }
  }
  buffer_.resize(out);
}

void CooccurrenceCounter::spill() {
  collapse_buffer();
  std::error_code ec;
  fs::create_directories(options_.temp_dir, ec);
  const std::string path =
      (fs::path(options_.temp_dir) / ("cooccurrence_run_" + std::to_string(runs_.size()) + ".bin"))
          .string();
  RecordWriter<Pending> writer(path);
  for (const Pending& p : buffer_) writer.write(p);
  writer.close();
  runs_.push_back(path);
  buffer_.clear();
}

namespace {

// One sorted, duplicate-free stream of pending counts for the merge.
template <class P>
class Source {
 public:
  virtual ~Source() = default;
  virtual bool next(P& out) = 0;
};

template <class P>
class VectorSource : public Source<P> {
 public:
  explicit VectorSource(const std::vector<P>& items) : items_(items) {}
  bool next(P& out) override {
    if (at_ == items_.size()) return false;
    out = items_[at_++];
    return true;
  }

 private:
  const std::vector<P>& items_;
  std::size_t at_ = 0;
};

template <class P>
class FileSource : public Source<P> {
 public:
  explicit FileSource(const std::string& path) : reader_(path) {}
  bool next(P& out) override { return reader_.read(out); }

 private:
  RecordReader<P> reader_;
};

}  // namespace

CooccurrenceStats CooccurrenceCounter::finish(const std::string& path) {
  collapse_buffer();
  CooccurrenceStats stats;
  stats.tokens = tokens_;
  stats.runs = static_cast<std::int64_t>(runs_.size());
  stats.max_product = max_product_;
  stats.dense_cells = static_cast<std::int64_t>(dense_.size());

  // The dense table, read row by row, is sorted by (word, context) like the runs.
  class DenseSource : public Source<Pending> {
   public:
    explicit DenseSource(const CooccurrenceCounter& c) : c_(c) {}
    bool next(Pending& out) override {
      const std::int64_t rows = static_cast<std::int64_t>(c_.row_start_.size()) - 2;
      for (; a_ <= rows; ++a_, b_ = 1) {
        const std::int64_t start = c_.row_start_[static_cast<std::size_t>(a_)];
        const std::int64_t width = c_.row_start_[static_cast<std::size_t>(a_ + 1)] - start;
        for (; b_ <= width; ++b_) {
          const double count = c_.dense_[static_cast<std::size_t>(start + b_ - 1)];
          if (count == 0.0) continue;
          out = Pending{static_cast<std::int32_t>(a_ + c_.first_word_ - 1),
                        static_cast<std::int32_t>(b_ + c_.first_word_ - 1), count};
          ++b_;
          return true;
        }
      }
      return false;
    }

   private:
    const CooccurrenceCounter& c_;
    std::int64_t a_ = 1, b_ = 1;
  };

  std::vector<std::unique_ptr<Source<Pending>>> sources;
  sources.push_back(std::make_unique<DenseSource>(*this));
  sources.push_back(std::make_unique<VectorSource<Pending>>(buffer_));
  for (const auto& run : runs_) sources.push_back(std::make_unique<FileSource<Pending>>(run));

  using Head = std::pair<std::uint64_t, std::size_t>;  // key, source
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
  std::vector<Pending> current(sources.size());
  for (std::size_t s = 0; s < sources.size(); ++s) {
    if (sources[s]->next(current[s])) heads.push({key_of(current[s].word, current[s].context), s});
  }
  const std::string temporary = path + ".tmp";
  RecordWriter<Cooccurrence> writer(temporary);
  bool open = false;
  Pending merged{};
  auto emit = [&] {
    writer.write(Cooccurrence{merged.word, merged.context, static_cast<float>(merged.count)});
    ++stats.records;
  };
  while (!heads.empty()) {
    const std::size_t s = heads.top().second;
    heads.pop();
    const Pending& p = current[s];
    if (open && p.word == merged.word && p.context == merged.context) {
      merged.count += p.count;
    } else {
      if (open) emit();
      merged = p;
      open = true;
    }
    if (sources[s]->next(current[s])) heads.push({key_of(current[s].word, current[s].context), s});
  }
  if (open) emit();
  writer.close();
  sources.clear();
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) throw DataError(path, "cannot write the co-occurrence file: " + ec.message());

  for (const auto& run : runs_) fs::remove(run, ec);
  runs_.clear();
  buffer_.clear();
  dense_.clear();
  tokens_ = 0;
  return stats;
}

std::int64_t count_records(const std::string& path) {
  std::error_code ec;
  const auto bytes = static_cast<std::int64_t>(fs::file_size(path, ec));
  if (ec) throw DataError(path, "cannot read the co-occurrence file: " + ec.message());
  if (bytes % static_cast<std::int64_t>(sizeof(Cooccurrence)) != 0) {
    throw DataError(path, "not a co-occurrence file: its size is not a multiple of 12 bytes");
  }
  return bytes / static_cast<std::int64_t>(sizeof(Cooccurrence));
}

void read_records(const std::string& path, std::int64_t begin, std::int64_t count,
                  std::vector<Cooccurrence>& out) {
  out.resize(static_cast<std::size_t>(count));
  RecordReader<Cooccurrence> reader(path, begin);
  if (reader.read_many(out.data(), out.size()) != out.size()) {
    throw DataError(path, "co-occurrence file ends before record " + std::to_string(begin + count) +
                              "; delete it to count again");
  }
}

namespace {

// splitmix64, as word2vec's: cheap and statistically sound for Fisher-Yates.
struct ShuffleRng {
  std::uint64_t state;
  std::uint64_t below(std::uint64_t n) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(z) * n) >> 64);
  }
};

void shuffle(std::vector<Cooccurrence>& records, ShuffleRng& rng) {
  for (std::size_t i = records.size(); i > 1; --i) {
    std::swap(records[i - 1], records[rng.below(i)]);
  }
}

}  // namespace

std::int64_t shuffle_records(const std::string& input, const std::string& output,
                             std::int64_t memory_bytes, std::uint64_t seed,
                             const std::string& temp_dir) {
  const std::int64_t total = count_records(input);
  // Never more than the records: resize() writes every element it makes.
  const std::size_t chunk = std::min<std::size_t>(
      static_cast<std::size_t>(std::max<std::int64_t>(total, 1)),
      std::max<std::size_t>(1024, static_cast<std::size_t>(memory_bytes) / sizeof(Cooccurrence)));
  ShuffleRng rng{seed};
  std::vector<Cooccurrence> buffer;
  const std::string temporary = output + ".tmp";
  std::vector<std::string> pieces;
  {
    RecordReader<Cooccurrence> reader(input);
    for (;;) {
      buffer.resize(chunk);
      buffer.resize(reader.read_many(buffer.data(), buffer.size()));
      if (buffer.empty()) break;
      shuffle(buffer, rng);
      if (pieces.empty() && static_cast<std::int64_t>(buffer.size()) == total) {
        // Everything fit: this chunk is the answer.
        RecordWriter<Cooccurrence> writer(temporary);
        writer.write_many(buffer.data(), buffer.size());
        writer.close();
        std::error_code ec;
        fs::rename(temporary, output, ec);
        if (ec) throw DataError(output, "cannot write: " + ec.message());
        return total;
      }
      std::error_code ec;
      fs::create_directories(temp_dir, ec);
      pieces.push_back(
          (fs::path(temp_dir) / ("shuffle_" + std::to_string(pieces.size()) + ".bin")).string());
      RecordWriter<Cooccurrence> writer(pieces.back());
      writer.write_many(buffer.data(), buffer.size());
      writer.close();
    }
  }
  // Each pass takes an equal share of every shuffled piece and shuffles the share together.
  {
    std::vector<std::unique_ptr<RecordReader<Cooccurrence>>> readers;
    for (const auto& piece : pieces) {
      readers.push_back(std::make_unique<RecordReader<Cooccurrence>>(piece));
    }
    const std::size_t share = std::max<std::size_t>(1, chunk / pieces.size());
    RecordWriter<Cooccurrence> writer(temporary);
    for (bool more = true; more;) {
      buffer.clear();
      more = false;
      for (auto& reader : readers) {
        const std::size_t at = buffer.size();
        buffer.resize(at + share);
        const std::size_t got = reader->read_many(buffer.data() + at, share);
        buffer.resize(at + got);
        if (got == share) more = true;
      }
      shuffle(buffer, rng);
      writer.write_many(buffer.data(), buffer.size());
    }
    writer.close();
  }
  std::error_code ec;
  for (const auto& piece : pieces) fs::remove(piece, ec);
  fs::rename(temporary, output, ec);
  if (ec) throw DataError(output, "cannot write: " + ec.message());
  return total;
}

}  // namespace lmforge::glove
