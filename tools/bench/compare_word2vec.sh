#!/usr/bin/env bash
# word2vec throughput and quality: lmforge vs gensim vs fastText on the same text with the same
# settings (dim 100, window 5, 5 noise words, subsampling 1e-3, min_count 5, one epoch, 2
# threads), each with its own default learning rate: lmforge and fastText 0.05, gensim 0.025.
# The tools run in turn (lmforge, gensim, fastText) per mode and round, so machine drift hits all
# three alike.
#
# The Gutenberg books are tokenized once by lmforge's word tokenizer (lowercased, punctuation
# split, one paragraph per line) into one file that all three tools read. words/s is training
# throughput, corpus words / seconds spent training (vocabulary building excluded for all three);
# total_s is the whole command. Analogy accuracy is gensim's evaluate_word_analogies
# (restrict_vocab 30000) on each tool's exported vectors.
#
# Round r seeds every tool with r, so several rounds measure the seed-to-seed spread (one run's
# analogy accuracy moves by about half a point with the seed); the last lines give each tool's
# mean over the rounds.
#
# Reading the accuracies: in corpus_file mode each gensim worker measures its progress against
# the whole corpus, so with 2 workers alpha only decays from 0.025 to about 0.0125. The last row
# per mode, lmforge_gensim_lr, runs lmforge with that schedule for a like-for-like comparison.
#
# Subword vectors (fastText's character n-grams): the modes cbow-subwords and skipgram-subwords
# run lmforge with `subwords: true` and fastText with the same n-grams (MIN_N..MAX_N code points,
# BUCKETS rows; fastText's defaults 3, 6, 2000000), the two tools only (gensim has no such mode in
# word2vec). Both export each vocabulary word's composed vector (the mean of its row and its
# n-gram rows), which the analogy evaluation reads.
#
#   tools/bench/compare_word2vec.sh [DATA_DIR] [ROUNDS] [MODES]    # MODES: "cbow skipgram"
#   MIN_N=3 MAX_N=6 BUCKETS=2000000 tools/bench/compare_word2vec.sh "" 2 "skipgram-subwords cbow-subwords"
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$here/../shared/data}
rounds=${2:-1}
modes=${3:-cbow skipgram}
threads=2
min_n=${MIN_N:-3}
max_n=${MAX_N:-6}
buckets=${BUCKETS:-2000000}
lmforge=${LMFORGE:-$here/build/bin/lmforge}
python=/usr/bin/python3
peers=$here/tools/bench/word2vec_peers.py
books=$data/gutenberg-en/books
questions=$data/word-similarity/questions-words.txt
[[ -d $books && -f $questions ]] || { echo "skip: $books or $questions not found (set DATA_DIR)"; exit 0; }
command -v fasttext >/dev/null || { echo "skip: fasttext not installed (tools/setup.sh --bench)"; exit 0; }
$python -c "import gensim" 2>/dev/null || { echo "skip: gensim not installed (tools/setup.sh --bench)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
corpus=$out/corpus.txt
recipe=$here/recipes/bench/word2vec_bench.yaml

# One pass of lmforge's tokenizer writes the shared file (and trains one step, which is ignored).
"$lmforge" run "$recipe" --data-dir "$data" --out "$out/prepare" "stages.w2v.task.train=$books" \
  stages.w2v.task.sentences=paragraph "stages.w2v.task.write_tokenized=$corpus" \
  stages.w2v.train.max_steps=1 >/dev/null
echo "corpus: $(wc -w <"$corpus") words, $(wc -l <"$corpus") lines, tokenized by lmforge"

now() { date +%s.%N; }
json() { $python -c "import json,sys; print(json.loads(sys.argv[1])['$1'])" "$2"; }
accuracy() { json analogy_accuracy "$($python "$peers" evaluate --vectors "$1" --analogies "$questions")"; }

# "skipgram-subwords" -> the backbone type and lmforge's or fastText's n-gram settings.
base_mode() { echo "${1%-subwords}"; }
lmforge_ngrams() {
  if [[ $1 == *-subwords ]]; then
    echo stages.w2v.backbone.subwords=true stages.w2v.backbone.min_n=$min_n \
      stages.w2v.backbone.max_n=$max_n stages.w2v.backbone.buckets=$buckets
  fi
}
fasttext_ngrams() {
  if [[ $1 == *-subwords ]]; then echo -minn $min_n -maxn $max_n -bucket $buckets; else echo -minn 0 -maxn 0; fi
}

run_lmforge() {  # mode [overrides...] -> "words/s total_s vectors"
  local mode=$1 start end line
  shift
  start=$(now)
  # shellcheck disable=SC2046 # lmforge_ngrams prints separate overrides
  "$lmforge" run "$recipe" --data-dir "$data" --out "$out/lm" "stages.w2v.task.train=$corpus" \
    "stages.w2v.backbone.type=$(base_mode "$mode")" $(lmforge_ngrams "$mode") "seed=$seed" "$@" >/dev/null
  end=$(now)
  line=$(grep '"train_end"' "$out/lm/bench_word2vec/w2v/metrics.jsonl" | tail -1)
  "$lmforge" embed "$out/lm/bench_word2vec/w2v" export --output "$out/lmforge.vec" >/dev/null
  echo "$(json tokens_per_sec "$line") $(echo "$end - $start" | bc) $out/lmforge.vec"
}

# lmforge with the schedule gensim's corpus_file mode ends up with (see the top).
run_lmforge_gensim_lr() { run_lmforge "$1" stages.w2v.task.alpha=0.025 stages.w2v.task.min_alpha=0.0125; }

run_gensim() {
  local line
  line=$($python "$peers" gensim --corpus "$corpus" --mode "$1" --threads $threads \
    --output "$out/gensim.vec" --seed "$seed")
  echo "$(json words_per_sec "$line") $(json total_seconds "$line") $out/gensim.vec"
}

run_fasttext() {
  local start end log wst
  start=$(now)
  # shellcheck disable=SC2046 # fasttext_ngrams prints separate flags
  log=$(fasttext "$(base_mode "$1")" -input "$corpus" -output "$out/fasttext" -dim 100 -ws 5 \
    -neg 5 -t 1e-3 -minCount 5 -thread $threads -epoch 1 $(fasttext_ngrams "$1") -seed "$seed" \
    -verbose 2 2>&1)
  end=$(now)
  # fastText reports words/sec/thread while training; the last report covers the whole run.
  wst=$(echo "$log" | tr '\r' '\n' | grep -o 'words/sec/thread: *[0-9]*' | tail -1 | grep -o '[0-9]*$')
  echo "$((wst * threads)) $(echo "$end - $start" | bc) $out/fasttext.vec"
}

table=$out/table.txt
printf '%-6s %-17s %-17s %12s %9s %9s\n' round mode tool words/s total_s analogy
for r in $(seq 1 "$rounds"); do
  seed=$r
  for mode in $modes; do
    tools="lmforge gensim fasttext lmforge_gensim_lr"
    [[ $mode == *-subwords ]] && tools="lmforge fasttext"
    for tool in $tools; do
      read -r wps total vectors <<<"$(run_$tool "$mode")"
      printf '%-6s %-17s %-17s %12.0f %9.1f %8.2f%%\n' "$r" "$mode" "$tool" "$wps" "$total" \
        "$($python -c "print(100 * $(accuracy "$vectors"))")" | tee -a "$table"
    done
  done
done
# Means over the rounds (seeds), per mode and tool.
awk '{ key = $2 " " $3; n[key]++; wps[key] += $4; acc[key] += $6 }
     END { for (k in n) printf "mean   %-35s %12.0f %9s %8.2f%%\n", k, wps[k] / n[k], "", acc[k] / n[k] }' \
  "$table" | sort -k2,2 -k3,3
