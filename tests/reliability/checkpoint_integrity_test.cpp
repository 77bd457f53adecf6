// Checkpoints that can tell when they are damaged: every file sealed with a magic number, format
// version, size and CRC-32; a truncated, flipped, foreign or newer file named when read; --resume
// falling back to the newest intact checkpoint; a failed save (file size limit standing in for a
// full disk) leaving the previous checkpoint and `latest` as they were; keep_checkpoints.
#include <signal.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "heads/lm/lm_head.h"
#include "io/atomic_file.h"
#include "io/crc32.h"
#include "io/sealed_file.h"
#include "lmforge/error.h"
#include "lmforge/model.h"
#include "support/small_lstm.h"
#include "support/temp_dir.h"
#include "train/checkpoint.h"

namespace fs = std::filesystem;
using lmforge::test::TempDir;

namespace {

std::shared_ptr<lmforge::Model> small_model() {
  auto backbone = lmforge::test::small_lstm(20, 0, 8, 8, /*tie_output=*/false);
  auto head = std::make_shared<lmforge::LmHead>(lmforge::LmHeadOptions{},
                                                lmforge::test::head_context(*backbone, 20));
  return std::make_shared<lmforge::Model>(backbone, head);
}

void save_step(lmforge::CheckpointStore& store, lmforge::Model& model, std::int64_t step) {
  store.save(model, lmforge::CheckpointMeta{0, step, step, false, "lstm", "lm"},
             [&](torch::serialize::OutputArchive& a) { a.write("step", torch::tensor(step)); });
}

std::string bytes_of(const fs::path& path) { return lmforge::io::read_text(path.string()); }

void overwrite(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

/// The message of the DataError `action` throws; fails when it throws nothing.
template <class Action>
std::string data_error_of(Action action) {
  try {
    action();
  } catch (const lmforge::DataError& e) {
    std::cout << "  refused: " << e.what() << "\n";
    return e.what();
  }
  FAIL("no DataError thrown");
  return {};
}

}  // namespace

TEST_CASE("sealed files: CRC-32, round trip, and each kind of damage named", "[reliability]") {
  // The standard check value of CRC-32/ISO-HDLC (zlib's crc32).
  CHECK(lmforge::io::crc32("123456789") == 0xCBF43926u);
  CHECK(lmforge::io::crc32("6789", lmforge::io::crc32("12345")) == 0xCBF43926u);

  const std::string contents = "tensor bytes \x00\x01\xff here";
  const std::string sealed = lmforge::io::seal(contents, 2);
  CHECK(sealed.size() == contents.size() + lmforge::io::kSealedHeaderSize);
  auto opened = lmforge::io::unseal(sealed, "f.pt", 2);
  CHECK(opened.contents == contents);
  CHECK(opened.version == 2);

  auto message = [&](const std::string& bytes, std::uint32_t max_version = 2) {
    return data_error_of([&] { lmforge::io::unseal(bytes, "f.pt", max_version); });
  };
  CHECK_THAT(message(sealed.substr(0, sealed.size() - 3)), Catch::Contains("truncated"));
  CHECK_THAT(message(sealed.substr(0, 5)), Catch::Contains("truncated"));
  CHECK_THAT(message(sealed + "x"), Catch::Contains("unexpected bytes"));
  std::string flipped = sealed;
  flipped[lmforge::io::kSealedHeaderSize + 3] ^= 0x10;
  CHECK_THAT(message(flipped), Catch::Contains("checksum mismatch"));
  CHECK_THAT(message("PK\x03\x04 a zip archive"), Catch::Contains("no magic number"));
  // Found by fuzz_sealed_file (tests/fuzz/regressions): header bytes the checksum does not
  // cover were not checked.
  std::string reserved = sealed;
  reserved[30] = '!';
  CHECK_THAT(message(reserved), Catch::Contains("damaged header"));
  CHECK_THAT(message(lmforge::io::seal(contents, 0)), Catch::Contains("damaged header"));
  const std::string newer = message(lmforge::io::seal(contents, 3));
  CHECK_THAT(newer, Catch::Contains("format 3") && Catch::Contains("format 2"));
  CHECK_THAT(newer, Catch::StartsWith("f.pt"));

  const std::string text = lmforge::io::seal_text("a: 1\nb: 2\n");
  CHECK(lmforge::io::unseal_text(text, "meta.yaml") == "a: 1\nb: 2\n");
  std::string edited = text;
  edited[3] = '7';
  CHECK_THAT(data_error_of([&] { lmforge::io::unseal_text(edited, "meta.yaml"); }),
             Catch::Contains("checksum mismatch"));
  CHECK_THAT(data_error_of([&] { lmforge::io::unseal_text("a: 1\n", "meta.yaml"); }),
             Catch::Contains("no checksum line"));
}

TEST_CASE("checkpoints: damage is named, --resume falls back to the newest intact one",
          "[reliability][checkpoint]") {
  TempDir dir("ckpt");
  auto model = small_model();
  lmforge::CheckpointStore store(dir.str("stage"), /*keep=*/3);
  for (std::int64_t step = 1; step <= 4; ++step) save_step(store, *model, step);
  const fs::path root = dir.path / "stage" / "checkpoints";
  // keep_checkpoints: the three newest stay.
  CHECK(store.checkpoint_names() ==
        std::vector<std::string>{"step-00000002", "step-00000003", "step-00000004"});
  for (const auto& name : store.checkpoint_names()) {
    lmforge::CheckpointStore::verify((root / name).string());
  }

  std::vector<std::string> skipped;
  REQUIRE(store.newest_intact(skipped) == (root / "step-00000004").string());
  CHECK(skipped.empty());

  SECTION("a flipped byte in the weights") {
    fs::path part = root / "step-00000004" / "backbone.pt";
    std::string bytes = bytes_of(part);
    bytes[bytes.size() / 2] ^= 0x01;
    overwrite(part, bytes);
    auto backbone = small_model();
    std::string refused = data_error_of(
        [&] { lmforge::load_part(backbone->backbone(), part.parent_path().string(), "backbone"); });
    CHECK_THAT(refused, Catch::StartsWith(part.string()) && Catch::Contains("checksum mismatch"));
    REQUIRE(store.newest_intact(skipped) == (root / "step-00000003").string());
    REQUIRE(skipped.size() == 1);
    CHECK_THAT(skipped[0], Catch::Contains("backbone.pt") && Catch::Contains("checksum"));
  }
  SECTION("a truncated trainer state and head") {
    for (const char* file : {"trainer.pt", "head.pt"}) {
      fs::path path = root / "step-00000004" / file;
      overwrite(path, bytes_of(path).substr(0, 100));
    }
    fs::path head = root / "step-00000003" / "head.pt";
    overwrite(head, bytes_of(head).substr(0, 40));
    REQUIRE(store.newest_intact(skipped) == (root / "step-00000002").string());
    REQUIRE(skipped.size() == 2);
    CHECK_THAT(skipped[0], Catch::Contains("step-00000004") && Catch::Contains("truncated"));
    CHECK_THAT(skipped[1], Catch::Contains("step-00000003/head.pt"));
  }
  SECTION("an edited meta.yaml, a missing file, a dangling latest") {
    fs::path meta = root / "step-00000004" / "meta.yaml";
    std::string text = bytes_of(meta);
    text.replace(text.find("global_step: 4"), 14, "global_step: 9");
    overwrite(meta, text);
    CHECK_THAT(
        data_error_of([&] { lmforge::CheckpointStore::read_meta(meta.parent_path().string()); }),
        Catch::Contains("meta.yaml") && Catch::Contains("checksum mismatch"));
    fs::remove(root / "step-00000003" / "trainer.pt");
    REQUIRE(store.newest_intact(skipped) == (root / "step-00000002").string());
    CHECK(skipped.size() == 2);
    skipped.clear();
    fs::remove_all(root / "step-00000004");
    REQUIRE(store.newest_intact(skipped) == (root / "step-00000002").string());
    CHECK_THAT(skipped.front(), Catch::Contains("missing checkpoint 'step-00000004'"));
  }
  SECTION("nothing intact: one error saying how to start afresh") {
    for (const auto& name : store.checkpoint_names()) {
      overwrite(root / name / "head.pt", "garbage");
    }
    CHECK_THAT(data_error_of([&] { store.newest_intact(skipped); }),
               Catch::Contains("no intact checkpoint") && Catch::Contains("without --resume"));
  }
  SECTION("a checkpoint from a newer lmforge names both versions") {
    fs::path meta = root / "step-00000004" / "meta.yaml";
    std::string text = lmforge::io::unseal_text(bytes_of(meta), meta.string());
    text.replace(text.find("format: 2"), 9, "format: 7");
    overwrite(meta, lmforge::io::seal_text(text));
    CHECK_THAT(
        data_error_of([&] { lmforge::CheckpointStore::read_meta(meta.parent_path().string()); }),
        Catch::Contains("format 7") && Catch::Contains("format 2 and older"));
  }
  SECTION("a format-1 checkpoint (unsealed files) still loads") {
    fs::path old = root / "step-00000004";
    for (const char* file : {"backbone.pt", "head.pt", "trainer.pt"}) {
      auto contents = lmforge::io::unseal(bytes_of(old / file), file, 2).contents;
      overwrite(old / file, contents);
    }
    std::string text = lmforge::io::unseal_text(bytes_of(old / "meta.yaml"), "meta.yaml");
    text.replace(text.find("format: 2"), 9, "format: 1");
    overwrite(old / "meta.yaml", text);
    lmforge::CheckpointStore::verify(old.string());
    auto other = small_model();
    CHECK(lmforge::load_part(other->backbone(), old.string(), "backbone").empty());
  }
}

TEST_CASE("checkpoints: a failed save leaves the previous checkpoint and latest intact",
          "[reliability][checkpoint]") {
  TempDir dir("ckpt_full");
  auto model = small_model();
  lmforge::CheckpointStore store(dir.str("stage"), 2);
  save_step(store, *model, 1);
  const fs::path root = dir.path / "stage" / "checkpoints";

  // A file size limit fails the writes the way a full disk does (EFBIG instead of ENOSPC),
  // without needing a small file system: the process ignores SIGXFSZ and sees write errors.
  struct rlimit saved {};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto previous_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 2048;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    save_step(store, *model, 2);
  } catch (const lmforge::Error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, previous_handler);
  std::cout << "  failed save: " << message << "\n";
  CHECK_THAT(message, Catch::Contains("cannot save checkpoint step-00000002"));
  CHECK_THAT(message, Catch::Contains("step-00000001 is intact"));
  CHECK(message.find('\n') == std::string::npos);
  CHECK(store.checkpoint_names() == std::vector<std::string>{"step-00000001"});
  CHECK(*store.latest() == (root / "step-00000001").string());
  for (const auto& entry : fs::directory_iterator(root)) {
    CHECK(entry.path().extension() != ".tmp");
  }
  lmforge::CheckpointStore::verify((root / "step-00000001").string());
  // With the space back, the next save works.
  save_step(store, *model, 2);
  CHECK(*store.latest() == (root / "step-00000002").string());
}
