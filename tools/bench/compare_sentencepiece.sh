#!/usr/bin/env bash
# Sentencepiece in lmforge vs Python's sentencepiece module (Debian's python3-sentencepiece, the
# same C++ library underneath: any difference is the wrapper's overhead) on WikiText-2's training
# text: training a unigram model (every line, 4 specials at ids 0..3, vocab_size 8000, 2 threads)
# and encoding the whole text one line at a time with the model each side trained. Rounds
# alternate the two (A B A B) so drift on a shared machine hits both alike. Both sides' models
# are compared piece by piece: the same settings must give the same model.
#
# lmforge's figures are its own measurements (`lmforge tokenize --stats`: encode time without
# process start and model load; `--fit`: reading the text, sampling and training) and the wall
# time of the process; Python's are timed inside the script the same way.
#
#   tools/bench/compare_sentencepiece.sh [DATA_DIR] [ROUNDS] [VOCAB_SIZE]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$here/../shared/data}
rounds=${2:-2}
vocab=${3:-8000}
threads=2
lmforge=${LMFORGE:-$here/build/bin/lmforge}
python=${PYTHON:-/usr/bin/python3}
text=$data/wikitext-2/train.txt
[[ -f $text ]] || { echo "skip: $text not found (pass DATA_DIR)"; exit 0; }
"$python" -c 'import sentencepiece' 2>/dev/null ||
  { echo "compare_sentencepiece.sh: $python cannot import sentencepiece (apt-get install python3-sentencepiece)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "text: $text ($(wc -l <"$text") lines); unigram vocab_size $vocab, $threads threads; load: $(cut -d' ' -f1-3 /proc/loadavg)"

wall() { /usr/bin/time -f '%e' -o "$out/wall" "$@"; }
printf '%-6s %-8s %-7s %10s %10s\n' round tool what seconds wall_s
for ((r = 1; r <= rounds; r++)); do
  wall "$lmforge" tokenize --tokenizer "{type: sentencepiece, vocab_size: $vocab, input_sentence_size: 0, threads: $threads}" \
    --fit "$text" --save "$out/lmforge" >"$out/lm_train.log"
  printf '%-6s %-8s %-7s %10s %10s\n' "$r" lmforge train "$(sed -n 's/^fitted on .* in \([0-9.]*\) s$/\1/p' "$out/lm_train.log")" "$(cat "$out/wall")"
  wall "$python" "$here/tools/bench/sentencepiece_peer.py" train "$text" "$out/python" "$vocab" "$threads" >"$out/py_train.log"
  printf '%-6s %-8s %-7s %10s %10s\n' "$r" python train "$(sed -n 's/^seconds=\([0-9.]*\).*/\1/p' "$out/py_train.log")" "$(cat "$out/wall")"
  wall "$lmforge" tokenize --tokenizer "{type: sentencepiece, model: $out/lmforge/vocab.sentencepiece.model}" \
    --file "$text" --stats >"$out/lm_encode.log"
  printf '%-6s %-8s %-7s %10s %10s\n' "$r" lmforge encode "$(sed -n 's/^encoded .* tokens in \([0-9.]*\) s.*/\1/p' "$out/lm_encode.log")" "$(cat "$out/wall")"
  wall "$python" "$here/tools/bench/sentencepiece_peer.py" encode "$text" "$out/python.model" >"$out/py_encode.log"
  printf '%-6s %-8s %-7s %10s %10s\n' "$r" python encode "$(sed -n 's/^seconds=\([0-9.]*\).*/\1/p' "$out/py_encode.log")" "$(cat "$out/wall")"
done
echo "lmforge: $(grep '^encoded' "$out/lm_encode.log")"
echo "python:  $(cat "$out/py_encode.log")"
# The same settings must have given the same model: compare the piece lists.
"$python" - "$out/lmforge/vocab.sentencepiece.model" "$out/python.model" <<'PY'
import sys
import sentencepiece as spm
a, b = (spm.SentencePieceProcessor(model_file=m) for m in sys.argv[1:3])
pieces = lambda p: [p.id_to_piece(i) for i in range(p.get_piece_size())]
same = pieces(a) == pieces(b)
print(f"models: {a.get_piece_size()} vs {b.get_piece_size()} pieces, identical piece lists: {same}")
PY
