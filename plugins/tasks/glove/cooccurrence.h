#pragma once
// GloVe's word-context co-occurrence counts (Pennington et al. 2014) in bounded memory.
//
// Word ids come in frequency order (the tokenizer's ids after the specials), so the pairs that
// occur most are pairs of low ids. The counter keeps those in a dense table indexed by rank:
// pair (a, b) of 1-based ranks lives there when a * b <= max_product, a hyperbola that covers
// every pair of the very frequent words and the frequent word with most of the others. Every
// other pair goes into an append-only buffer; when the buffer is full it is sorted, equal pairs
// are summed and it is written to disk as a sorted run. `finish` merges the dense table, the
// runs and the last buffer into one file sorted by (word, context) with each pair once. The
// memory cap is split between the table (3/4) and the buffer (1/4), so counting never holds
// more than the cap however large the corpus.
//
// Each occurrence adds 1/distance (or 1 without distance weighting) to (earlier word, later
// word) within `window` words; symmetric counting also adds it to (later, earlier). Windows
// never cross a sentence.
#include <cstdint>
#include <string>
#include <vector>

#include "zeroed_table.h"

namespace lmforge::glove {

/// One record of a co-occurrence file: 12 bytes, native byte order, no header.
struct Cooccurrence {
  std::int32_t word;
  std::int32_t context;
  float count;
};
static_assert(sizeof(Cooccurrence) == 12, "records are 12 bytes on disk");

struct CooccurrenceOptions {
  std::int64_t window = 10;
  bool symmetric = true;
  bool distance_weighting = true;
  /// Bytes the dense table and the buffer may use together.
  std::int64_t memory_bytes = std::int64_t(1) << 30;
  /// Where sorted runs are spilled (created if missing; runs are removed by `finish`).
  std::string temp_dir;
};

struct CooccurrenceStats {
  std::int64_t records = 0;      ///< distinct (word, context) pairs written
  std::int64_t tokens = 0;       ///< words counted
  std::int64_t runs = 0;         ///< sorted runs spilled to disk before the merge
  std::int64_t max_product = 0;  ///< rank product bound of the dense table
  std::int64_t dense_cells = 0;  ///< cells of the dense table
};

class CooccurrenceCounter {
 public:
  /// Ids in [first_word, vocab_size) are counted; `first_word` has rank 1.
  CooccurrenceCounter(std::int64_t vocab_size, std::int64_t first_word,
                      CooccurrenceOptions options);
  ~CooccurrenceCounter();
  CooccurrenceCounter(const CooccurrenceCounter&) = delete;
  CooccurrenceCounter& operator=(const CooccurrenceCounter&) = delete;

  /// Counts one sentence of word ids; ids outside the counted range must already be removed.
  void add_sentence(const std::int32_t* ids, std::size_t length);
  /// Merges everything into `path` (sorted by word then context, each pair once) and removes
  /// the spilled runs. The counter is empty afterwards.
  CooccurrenceStats finish(const std::string& path);

  std::int64_t max_product() const { return max_product_; }

 private:
  struct Pending {
    std::int32_t word;
    std::int32_t context;
    double count;
  };
  void add(std::int64_t word, std::int64_t context, double weight);
  void spill();
  /// Sorts the buffer and sums equal pairs in place.
  void collapse_buffer();

  std::int64_t first_word_;
  std::int64_t words_;  // ranks 1..words_
  CooccurrenceOptions options_;
  std::int64_t max_product_ = 0;
  std::vector<std::int64_t> row_start_;  // dense offset of rank a's row, a = 1..rows
  ZeroedTable dense_;                    // pages resident only where a pair was counted
  std::vector<Pending> buffer_;
  std::size_t buffer_capacity_ = 0;
  std::vector<std::string> runs_;
  std::int64_t tokens_ = 0;
};

/// Shuffles the records of `input` into `output` holding at most `memory_bytes` of records at
/// once: chunks are shuffled into temporary files in `temp_dir`, then each pass takes an equal
/// share of every chunk file and shuffles those together. Deterministic in `seed`. Returns the
/// number of records.
std::int64_t shuffle_records(const std::string& input, const std::string& output,
                             std::int64_t memory_bytes, std::uint64_t seed,
                             const std::string& temp_dir);

/// Reads records [begin, begin + count) of a co-occurrence file into `out` (resized).
void read_records(const std::string& path, std::int64_t begin, std::int64_t count,
                  std::vector<Cooccurrence>& out);

/// Records in a co-occurrence file (its size / 12); throws DataError when it is not a multiple.
std::int64_t count_records(const std::string& path);

}  // namespace lmforge::glove
