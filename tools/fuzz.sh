#!/usr/bin/env bash
# Fuzzes lmforge's parsers with libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   tools/fuzz.sh [SECONDS] [TARGET ...]   each target (default: all) for SECONDS (default 60),
#                                          one after another; CI runs all for 15 s (tools/test.sh)
#   FUZZ_RUNS=1000000 tools/fuzz.sh 3600    each target until a million executions (or the time)
#   FUZZ_MAX_LEN=1024 ...                   inputs up to that many bytes (default 65536): the
#                                          coverage tracing costs per byte compared, so small
#                                          inputs run many times faster
#   FUZZ_JOBS=2 ...                         that many fuzzing processes per target, sharing the
#                                          corpus (executions are summed over them)
#
# Builds the targets of tests/fuzz with clang into build-fuzz/ (a build folder of its own: the
# instrumentation shares nothing with the normal build), seeds each corpus from the test
# fixtures and recipes, and prints executions and crashes per target. The corpora grow in
# build-fuzz/corpus/ across runs; a crashing input lands in build-fuzz/crashes/<target>/ (make it
# a regression test: tests/fuzz/regressions/<target>/ is replayed by every run). Exit 1 on a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/torch_pin.sh
seconds="${1:-60}"
shift || true
build=build-fuzz
all_targets=(fuzz_recipe fuzz_tokenizers fuzz_vocabulary fuzz_sealed_file fuzz_text_reader
  fuzz_vector_files fuzz_labelled_text)
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $target "* ]] ||
    { echo "fuzz.sh: unknown target '$target' (known: ${all_targets[*]})" >&2; exit 2; }
done
cxx="$(command -v clang++-14 || command -v clang++ || true)"
[[ -n "$cxx" ]] || { echo "fuzz.sh: needs clang (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S . -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release \
    -DLMFORGE_FUZZ=ON -DLMFORGE_BUILD_TESTS=OFF -DCMAKE_PREFIX_PATH="$(lmforge_torch_prefix)" >/dev/null
fi
cmake --build "$build" --target "${targets[@]}" -j "$(nproc)"

# Seeds: what the targets read in real use.
seed() {
  local dir="$build/seeds/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  case "$1" in
    fuzz_recipe) cp recipes/*.yaml "$dir/" ;;
    fuzz_tokenizers | fuzz_text_reader)
      cp README.md "$dir/"
      printf 'the movie was good\r\nthis film\r\n' >"$dir/crlf.txt"
      printf '\xef\xbb\xbf\xec\x95\x88\xeb\x85\x95\xed\x95\x98\xec\x84\xb8\xec\x9a\x94, \xec\x84\xb8\xea\xb3\x84!\n' >"$dir/korean_bom.txt"
      printf 'caf\xe9 \xff\xfe <unk> @-@ 3 @.@ 5\n' >"$dir/latin1.txt" ;;
    fuzz_vocabulary)
      printf '<pad>\t0\n<unk>\t0\n<bos>\t0\n<eos>\t0\nthe\t12\nmovie\t3\n' >"$dir/vocab.txt"
      printf '<pad>\n<unk>\n<bos>\n<eos>\n\xec\x98\x81\xed\x99\x94\n' >"$dir/plain.txt" ;;
    fuzz_vector_files)
      # The layouts of tests/framework/vector_init_test.cpp and embeddings_test.cpp.
      printf '4 4\nthe 0.1 0.2 0.3 0.4\ncat 1 0 0 0\ndog 0.9 0.1 0 0\nsaw 0 0 1 0\n' >"$dir/word2vec.txt"
      printf 'the 0.1 0.2 0.3 0.4\ncat 1 0 0 0\n\xec\x98\x81\xed\x99\x94 -1.5e-3 +2 0 0\n' >"$dir/glove.txt"
      python3 - "$dir" <<'PY'
import struct, sys
rows = [("the", (0.1, 0.2, 0.3)), ("cat", (1.0, 0.0, -2.5)), ("<unk>", (0.5, 0.5, 0.5))]
with open(sys.argv[1] + "/word2vec.bin", "wb") as f:
    f.write(b"3 3\n")
    for word, values in rows:  # word2vec.c's layout, with its newline after each vector
        f.write(word.encode() + b" " + struct.pack("<3f", *values) + b"\n")
PY
      ;;
    fuzz_labelled_text)
      # The first byte picks the layout (see fuzz_labelled_text.cpp); the rest are the files of
      # tests/framework/classification_test.cpp and tagging_test.cpp.
      printf '\x08pos\tgood film\n\nneg\tbad film\t extra\n' >"$dir/tsv"
      printf '\x0dlabel,text\n3,"Wall St. Bears, again"\n1,"He said ""hi"""\n2,"two\nlines"\n4,plain\n' >"$dir/csv"
      printf '\x021 a stirring , funny film\n0\tdull\n' >"$dir/label_first"
      printf '\x23DESC:manner How did serfdom develop ?\nNUM:date When was Ozzy born ?\n' >"$dir/trec"
      printf '\x8e-DOCSTART- O\n\nEU NNP B-ORG\nrejects VBZ O\n# comment\n\nPeter NNP B-PER\n' >"$dir/conll"
      printf '\x8bNew York\tB-LOC\n\xec\x84\x9c\xec\x9a\xb8\tB-LOC\n' >"$dir/conll_tab" ;;
    fuzz_sealed_file)
      python3 - "$dir" <<'PY'
import struct, sys, zlib
d = sys.argv[1]
body = b"PK\x03\x04 archive bytes"
open(d + "/part.pt", "wb").write(b"\x89LMF\r\n\x1a\n" + struct.pack("<IIQQ", 2, zlib.crc32(body), len(body), 0) + body)
meta = b"magic: lmforge-checkpoint\nformat: 2\nglobal_step: 5\n"
open(d + "/meta.yaml", "wb").write(meta + b"# crc32 %08x\n" % zlib.crc32(meta))
PY
      ;;
  esac
  if [[ -d "tests/fuzz/regressions/$1" ]]; then cp tests/fuzz/regressions/"$1"/* "$dir/" 2>/dev/null || true; fi
}

status=0
printf '%-18s %8s %12s %10s %8s\n' target seconds executions exec/s crashes
for target in "${targets[@]}"; do
  seed "$target"
  mkdir -p "$build/corpus/$target" "$build/crashes/$target"
  dict=()
  [[ $target == fuzz_recipe ]] && dict=(-dict=tests/fuzz/yaml.dict)
  log="$build/$target.log"
  # Regressions first: each must run clean.
  if [[ -d "tests/fuzz/regressions/$target" ]]; then
    "$build/fuzz/$target" tests/fuzz/regressions/"$target"/* >"$log.regressions" 2>&1 ||
      { echo "$target: a regression input fails again, see $log.regressions" >&2; status=1; }
  fi
  # FUZZ_JOBS processes share the corpus folder (libFuzzer reloads it, so each sees what the
  # others found); each stops at its share of FUZZ_RUNS or at the time limit.
  jobs="${FUZZ_JOBS:-1}" runs=()
  [[ -n "${FUZZ_RUNS:-}" ]] && runs=(-runs=$(((FUZZ_RUNS + jobs - 1) / jobs)))
  pids=()
  rm -f "$log".[0-9]*
  for ((job = 1; job <= jobs; job++)); do
    ASAN_OPTIONS=detect_leaks=1 "$build/fuzz/$target" "${dict[@]}" "${runs[@]}" \
      -max_total_time="$seconds" -max_len="${FUZZ_MAX_LEN:-65536}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$build/crashes/$target/" "$build/corpus/$target" "$build/seeds/$target" \
      >"$log.$job" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  cat "$log".[0-9]* >"$log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{n += $1} END {print n}')
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | awk '{n += $1} END {print n}')
  crashes=$(find "$build/crashes/$target" -type f | wc -l)
  printf '%-18s %8s %12s %10s %8s\n' "$target" "$seconds" "${execs:-?}" "${rate:-?}" "$crashes"
  ((crashes == 0)) || status=1
done
exit "$status"
