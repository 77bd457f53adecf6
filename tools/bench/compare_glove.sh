#!/usr/bin/env bash
# GloVe throughput, memory and quality: lmforge's glove task vs the Stanford reference C
# implementation (github.com/stanfordnlp/GloVe) at the same settings: dim 100, symmetric window
# 10 with 1/distance weighting, min_count 5, x_max 10, alpha 0.75, AdaGrad eta 0.05, the saved
# vectors W + W~ (the reference's -model 2), 1 GiB for counting and shuffling, 2 threads.
#
# The reference is not part of this repository: build it yourself (`make` in a checkout) and pass
# its build folder, the one holding vocab_count, cooccur, shuffle and glove.
#
# The Gutenberg books are tokenized once by lmforge's word tokenizer (lowercased, punctuation
# split, one paragraph per line) into one file that both tools read, a line being a document
# (the reference's rule; lmforge's `sentences: line`). For each tool: wall seconds of the whole
# pipeline (vocabulary, counting, shuffling, training), of the counting part and of training,
# CPU seconds (user + system) of the whole pipeline, which a shared machine that pauses and
# resumes jobs distorts less than wall time, corpus words per wall second, peak resident memory (the largest of the reference's four
# programs; lmforge's one process), and analogy accuracy by `lmforge embed FILE evaluate` on both
# tools' vectors (restrict_vocab 30000, case-insensitive, 3CosAdd: gensim's rule). Round r seeds
# both with r; rounds alternate the tools so machine drift hits both alike.
#
# TEXT (a file or a folder of .txt files, default the Gutenberg books) names another corpus, e.g.
# ../shared/data/wikitext-2/train.txt when the machine is too busy for the 12M-word run.
#
#   tools/bench/compare_glove.sh GLOVE_BUILD_DIR [DATA_DIR] [ROUNDS] [ITERATIONS] [TEXT]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
reference=${1:?usage: compare_glove.sh GLOVE_BUILD_DIR [DATA_DIR] [ROUNDS] [ITERATIONS]}
data=${2:-$here/../shared/data}
rounds=${3:-1}
iterations=${4:-15}
threads=2
lmforge=${LMFORGE:-$here/build/bin/lmforge}
books=${5:-$data/gutenberg-en/books}
questions=$data/word-similarity/questions-words.txt
for tool in vocab_count cooccur shuffle glove; do
  [[ -x $reference/$tool ]] || { echo "compare_glove.sh: $reference/$tool not found (build the reference GloVe and pass its build folder)" >&2; exit 2; }
done
[[ -e $books && -f $questions ]] || { echo "skip: $books or $questions not found (set DATA_DIR)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
corpus=$out/corpus.txt

# One pass of lmforge's tokenizer writes the shared file (the word2vec bench recipe's option).
"$lmforge" run "$here/recipes/bench/word2vec_bench.yaml" --data-dir "$data" --out "$out/prepare" \
  "stages.w2v.task.train=$books" stages.w2v.task.sentences=paragraph \
  "stages.w2v.task.write_tokenized=$corpus" stages.w2v.train.max_steps=1 >/dev/null
rm -rf "$out/prepare"
# The reference refuses a corpus containing <unk> (WikiText writes it); lmforge drops it as the
# unknown token anyway, so both tools read the text without it.
sed -i -e 's/<unk>//g' "$corpus"
words=$(wc -w <"$corpus")
echo "corpus: $words words, $(wc -l <"$corpus") lines, tokenized by lmforge; $iterations iterations; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# timed LOG CMD...: runs CMD with GNU time, appends "seconds max_rss_kib cpu_seconds" to LOG.
timed() {
  local log=$1
  shift
  /usr/bin/time -f '%e %M %U %S' -o "$out/time.txt" "$@"
  awk '{ print $1, $2, $3 + $4 }' "$out/time.txt" >>"$log"
}
accuracy() {
  "$lmforge" embed "$1" evaluate --analogies "$questions" --vectors-format "$2" |
    awk '$1 == "total" { sub("%", "", $3); print $3 }'
}

run_reference() {  # seed -> "total_s count_s train_s peak_mib analogy cpu_s"
  local seed=$1 log=$out/ref.log
  : >"$log"
  # The reference prints its progress on stderr whatever -verbose says: kept in ref.err.
  timed "$log" sh -c "'$reference/vocab_count' -min-count 5 -verbose 0 <'$corpus' >'$out/vocab.txt' 2>>'$out/ref.err'"
  timed "$log" sh -c "'$reference/cooccur' -memory 1.0 -vocab-file '$out/vocab.txt' -verbose 0 -window-size 10 -symmetric 1 -distance-weighting 1 -overflow-file '$out/overflow' <'$corpus' >'$out/cooc.bin' 2>>'$out/ref.err'"
  timed "$log" sh -c "'$reference/shuffle' -memory 1.0 -verbose 0 -seed $seed -temp-file '$out/temp_shuffle' <'$out/cooc.bin' >'$out/cooc.shuf.bin' 2>>'$out/ref.err'"
  timed "$log" "$reference/glove" -save-file "$out/ref_vectors" -threads $threads \
    -input-file "$out/cooc.shuf.bin" -x-max 10 -alpha 0.75 -eta 0.05 -iter "$iterations" \
    -vector-size 100 -binary 0 -model 2 -vocab-file "$out/vocab.txt" -verbose 0 -seed "$seed" \
    >/dev/null 2>>"$out/ref.err"
  rm -f "$out/cooc.bin" "$out/cooc.shuf.bin"
  awk -v acc="$(accuracy "$out/ref_vectors.txt" glove)" '
    { total += $1; cpu += $3; if (NR > 1 && NR < 4) count += $1; if (NR == 4) train = $1; if ($2 > peak) peak = $2 }
    END { printf "%.1f %.1f %.1f %.0f %s %.1f\n", total, count, train, peak / 1024, acc, cpu }' "$log"
}

run_lmforge() {  # seed -> the same fields
  local seed=$1 log=$out/lm.log
  : >"$log"
  rm -rf "$out/lm"
  timed "$log" "$lmforge" run "$here/recipes/bench/glove_bench.yaml" --data-dir "$data" --out "$out/lm" \
    "stages.glove.task.train=$corpus" "stages.glove.train.epochs=$iterations" "seed=$seed" >"$out/lm.out"
  local stage=$out/lm/bench_glove/glove
  "$lmforge" embed "$stage" export --output "$out/lm_vectors.txt" >/dev/null
  local count train
  count=$(grep -o 'words in [0-9.]* s' "$out/lm.out" | grep -o '[0-9.]*' | head -1)
  # metrics.jsonl writes `"key": value` (a space after the colon).
  train=$(grep '"train_end"' "$stage/metrics.jsonl" | tail -1 | grep -o '"train_seconds": *[0-9.e+-]*' | cut -d: -f2 | tr -d ' ')
  awk -v acc="$(accuracy "$out/lm_vectors.txt" word2vec)" -v count="$count" -v train="$train" \
    '{ printf "%.1f %.1f %.1f %.0f %s %.1f\n", $1, count, train, $2 / 1024, acc, $3 }' "$log"
  rm -rf "$out/lm"
}

printf '%-6s %-10s %10s %9s %9s %9s %9s %9s %9s\n' round tool words/s total_s count_s train_s cpu_s peak_MiB analogy
for r in $(seq 1 "$rounds"); do
  order="lmforge reference"
  ((r % 2 == 0)) && order="reference lmforge"
  for tool in $order; do
    read -r total count train peak acc cpu <<<"$(run_$tool "$r")"
    printf '%-6s %-10s %10.0f %9.1f %9.1f %9.1f %9.1f %9s %8s%%\n' "$r" "$tool" \
      "$(echo "$words / $total" | bc -l)" "$total" "$count" "$train" "$cpu" "$peak" "$acc"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
