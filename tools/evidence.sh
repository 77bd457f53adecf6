#!/usr/bin/env bash
# Does pre-training pay? TREC-6 and SST-2 test accuracy of the same bodies pre-trained on
# WikiText-2 vs trained from scratch, with 100% and 10% of the training labels:
#   lstm         next-word LSTM (ULMFiT's three steps), also with every layer trained at one rate
#                from the first step (no gradual unfreezing, no discriminative rates), which
#                separates what pre-training gives from what ULMFiT's schedule does with it;
#   transformer  next-token transformer (GPT), every layer fine-tuned under a new head;
#   bert         the same transformer body run bidirectionally, pre-trained by masked-token recovery;
#   lora         the GPT body frozen with rank-8 LoRA adapters (recipes/lora_*.yaml), beside full
#                fine-tuning of the same body at one rate (from scratch: the transformer rows);
#   cnn          Kim's sentence CNN with lmforge's word2vec vectors (WikiText-2) as its first
#                layer, frozen (static) and trained further (non-static), vs random init.
# Writes OUT/evidence.md: the table, and under it every lmforge command that produced it, in order
# (each row can be re-run alone with its commands).
#
#   tools/evidence.sh [DATA_DIR] [OUT_DIR]        # lstm, transformer, bert: about 75 minutes on 2
#                                                 # cores, plus the pre-trainings
#   BODIES="lora cnn" tools/evidence.sh ...       # only some bodies' rows
#
# Resumable: finished stages are skipped when it is run again with the same OUT_DIR.
# Each body is pre-trained once (stage `pretrain` of ulmfit_trec.yaml, gpt_finetune_trec.yaml and
# bert_finetune_trec.yaml; the word vectors by cnn_trec_vectors.yaml's `word2vec` stage)
# and the SST-2 recipes start from those directories (`init.from` set on the command line). The
# LSTM's language-model fine-tuning (ULMFiT's middle step) reads all of the task's training text,
# labels unused, in the 10% rows too: the setting of ULMFiT's label-efficiency experiments.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$here/../shared/data}
out=${2:-$here/runs/evidence}
lmforge=${LMFORGE:-$here/build/bin/lmforge}
for need in trec/train_5500.label sst2/stsa.binary.train wikitext-2/train.txt; do
  [[ -f $data/$need ]] || { echo "skip: $data/$need not found (give DATA_DIR)"; exit 0; }
done
mkdir -p "$out"
commands=$out/commands.txt
: >"$commands"

run() {  # lmforge run RECIPE ARGS...: logged, resumable
  local recipe=$1
  shift
  echo "lmforge run $recipe --data-dir $data --out $out --resume $*" | tee -a "$commands"
  "$lmforge" run "$here/$recipe" --data-dir "$data" --out "$out" --resume "$@" \
    >>"$out/log.txt" 2>&1 || { echo "failed; see $out/log.txt" >&2; tail -5 "$out/log.txt" >&2; exit 1; }
}
test_accuracy() {  # RUN/STAGE -> test accuracy in percent; "-" -> a dash (no such column)
  [[ $1 == - ]] && { echo "–"; return; }
  /usr/bin/env python3 - "$out/$1/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"split": "test"' in l or '"split":"test"' in l]
print(f"{100 * rows[-1]['accuracy']:.1f}")
PY
}
# The stage name of a label fraction: the 100% stage keeps its name, 10% becomes NAME_10pct.
suffix() { [[ $1 == 1.0 ]] && echo "" || echo "_$(awk "BEGIN{print $1*100}")pct"; }

# LSTM_BODY / GPT_BODY may name a finished stage of the same model trained elsewhere, e.g. the
# `lm` stage of recipes/lstm_wikitext2.yaml, whose training is identical (same settings, seed).
lstm_body=${LSTM_BODY:-$out/ulmfit_trec/pretrain}
gpt_body=${GPT_BODY:-$out/gpt_finetune_trec/pretrain}
bert_body=${BERT_BODY:-$out/bert_finetune_trec/pretrain}
vectors=${VECTORS:-$out/cnn_trec_vectors/word2vec}
echo "# bodies: LSTM $lstm_body, transformer $gpt_body, BERT $bert_body, vectors $vectors" >>"$commands"

rows=()
row() {  # DATASET BODY PERCENT PRETRAINED ALL_LAYERS SCRATCH, each RUN/STAGE or -
  rows+=("| ${1^^} | $2 | $3% | $(test_accuracy "$4") | $(test_accuracy "$5") | $(test_accuracy "$6") |")
}
for body in ${BODIES:-lstm transformer bert}; do
  if [[ $body == lstm ]]; then
    [[ -n ${LSTM_BODY:-} ]] || run recipes/ulmfit_trec.yaml --stages pretrain
  elif [[ $body == transformer ]]; then
    [[ -n ${GPT_BODY:-} ]] || run recipes/gpt_finetune_trec.yaml --stages pretrain
  elif [[ $body == bert ]]; then
    [[ -n ${BERT_BODY:-} ]] || run recipes/bert_finetune_trec.yaml --stages pretrain
  elif [[ $body == lora ]]; then
    [[ -n ${GPT_BODY:-} ]] || run recipes/gpt_finetune_trec.yaml --stages pretrain
  elif [[ $body == cnn ]]; then
    [[ -n ${VECTORS:-} ]] || run recipes/cnn_trec_vectors.yaml --stages word2vec
  else
    echo "evidence.sh: unknown body '$body' in BODIES (lstm, transformer, bert, lora, cnn)" >&2
    exit 2
  fi
  for dataset in trec sst2; do
    # ULMFiT's middle step: the LSTM language model fine-tuned on this data set's text, once for
    # both label fractions.
    [[ $body == lstm ]] &&
      run "recipes/ulmfit_$dataset.yaml" --stages lm_finetune "stages.lm_finetune.init.from=$lstm_body"
    for fraction in 1.0 0.1; do
      s=$(suffix "$fraction")
      percent=$(awk "BEGIN{print $fraction*100}")
      # Fewer labels, more epochs: every row takes the same number of steps as the 100% one
      # (8 epochs), so the 10% rows measure the labels, not a shorter training.
      epochs=$(awk "BEGIN{print int(8 / $fraction + 0.5)}")
      if [[ $body == lstm ]]; then
        run "recipes/ulmfit_$dataset.yaml" --stages "classify$s" \
          "stages.classify.task.fraction=$fraction" "stages.classify.train.epochs=$epochs" \
          "stages.classify.name=classify$s"
        # The same fine-tuned body with every layer trained from the first step at one rate:
        # separates what pre-training gives from what ULMFiT's schedule does with it.
        run "recipes/ulmfit_$dataset.yaml" --stages "classify_all$s" \
          "stages.classify.task.fraction=$fraction" "stages.classify.train.epochs=$epochs" \
          stages.classify.train.unfreeze=none stages.classify.train.discriminative_lr=1 \
          "stages.classify.name=classify_all$s"
        run "recipes/${dataset}_scratch.yaml" --stages "lstm$s" \
          "stages.lstm.task.fraction=$fraction" "stages.lstm.train.epochs=$epochs" \
          "stages.lstm.name=lstm$s"
        row "$dataset" LSTM "$percent" "ulmfit_$dataset/classify$s" "ulmfit_$dataset/classify_all$s" \
          "${dataset}_scratch/lstm$s"
      elif [[ $body == transformer ]]; then
        run "recipes/gpt_finetune_$dataset.yaml" --stages "classify$s" \
          "stages.classify.init.from=$gpt_body" \
          "stages.classify.task.fraction=$fraction" "stages.classify.train.epochs=$epochs" \
          "stages.classify.name=classify$s"
        run "recipes/${dataset}_scratch.yaml" --stages "transformer$s" \
          "stages.transformer.task.fraction=$fraction" "stages.transformer.train.epochs=$epochs" \
          "stages.transformer.name=transformer$s"
        row "$dataset" transformer "$percent" "gpt_finetune_$dataset/classify$s" - \
          "${dataset}_scratch/transformer$s"
      elif [[ $body == bert ]]; then
        # BERT: the masked-LM body under the same head and schedule; its baseline is the same
        # transformer from scratch run bidirectionally, as the pre-trained body is.
        run "recipes/bert_finetune_$dataset.yaml" --stages "classify$s" \
          "stages.classify.init.from=$bert_body" \
          "stages.classify.task.fraction=$fraction" "stages.classify.train.epochs=$epochs" \
          "stages.classify.name=classify$s"
        run "recipes/${dataset}_scratch.yaml" --stages "encoder$s" \
          "stages.transformer.task.fraction=$fraction" "stages.transformer.train.epochs=$epochs" \
          stages.transformer.backbone.mode=bidirectional "stages.transformer.name=encoder$s"
        row "$dataset" "transformer (BERT)" "$percent" "bert_finetune_$dataset/classify$s" - \
          "${dataset}_scratch/encoder$s"
      elif [[ $body == lora ]]; then
        # LoRA on the GPT body (pre-trained column) against every weight of the same body
        # fine-tuned at one rate (all-layers column), same head, data and steps. The from-scratch
        # baseline is the transformer rows' (BODIES=transformer), not trained again here.
        for stage in full lora; do
          run "recipes/lora_$dataset.yaml" --stages "$stage$s" \
            "stages.$stage.init.from=$gpt_body" \
            "stages.$stage.task.fraction=$fraction" "stages.$stage.train.epochs=$epochs" \
            "stages.$stage.name=$stage$s"
        done
        row "$dataset" "transformer + LoRA" "$percent" "lora_$dataset/lora$s" "lora_$dataset/full$s" -
      else
        # Kim's CNN: static vectors (pre-trained column), non-static (all-layers column), random
        # init (from scratch); its recipes train 10 epochs, so 100 at 10% of the labels.
        cnn_epochs=$(awk "BEGIN{print int(10 / $fraction + 0.5)}")
        for stage in cnn_static cnn_nonstatic; do
          run "recipes/cnn_${dataset}_vectors.yaml" --stages "$stage$s" \
            "stages.$stage.init.vectors=$vectors" \
            "stages.$stage.task.fraction=$fraction" "stages.$stage.train.epochs=$cnn_epochs" \
            "stages.$stage.name=$stage$s"
        done
        run "recipes/cnn_$dataset.yaml" --stages "cnn_rand$s" \
          "stages.cnn_rand.task.fraction=$fraction" "stages.cnn_rand.train.epochs=$cnn_epochs" \
          "stages.cnn_rand.name=cnn_rand$s"
        row "$dataset" "CNN, word2vec vectors" "$percent" "cnn_${dataset}_vectors/cnn_static$s" \
          "cnn_${dataset}_vectors/cnn_nonstatic$s" "cnn_$dataset/cnn_rand$s"
      fi
    done
  done
done

{
  echo "| data set | body | labels | pre-trained | pre-trained, every layer at one rate | from scratch |"
  echo "|---|---|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Test accuracy (%), one seed. Commands, in order:"
  echo
  echo '```'
  sed "s#$here/##g" "$commands"
  echo '```'
} >"$out/evidence.md"
cat "$out/evidence.md"
