#!/usr/bin/env bash
# Kill-anywhere resume: runs the quickstart recipe (shrunk by overrides to run in seconds) once
# uninterrupted, then again with SIGKILL at N random moments, resuming with --resume after each
# kill, and requires every stage's metrics (timing fields aside) to equal the uninterrupted run's.
#
#   tools/killtest.sh [N]        N kills (default 20); LMFORGE_KILLTEST_SEED fixes the moments
#   LMFORGE_CLI=path/to/lmforge  the executable (default build/bin/lmforge)
#   LMFORGE_KILLTEST_DIR=dir     where the runs go (default: a fresh temporary folder, removed)
#
# The moments are uniform over the uninterrupted run's duration, so they fall in data generation,
# mid-epoch, during checkpoint writes and between stages alike. Exit 0 when identical.
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-20}"
cli="${LMFORGE_CLI:-$PWD/build/bin/lmforge}"
[[ -x "$cli" ]] || { echo "killtest: no executable $cli; build first (tools/build.sh)" >&2; exit 2; }
RANDOM="${LMFORGE_KILLTEST_SEED:-$$}"
work="${LMFORGE_KILLTEST_DIR:-}"
if [[ -z "$work" ]]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/lmforge_killtest.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

# The quickstart's three stages (pre-train, fine-tune, from scratch), small: a few seconds.
shrink=(threads=1 generate_data.sentences=4000 generate_data.labelled_fraction=0.05
  stages.pretrain.train.epochs=2 stages.pretrain.train.checkpoint_every=5
  stages.pretrain.train.log_every=5 stages.classify.train.log_every=5
  stages.classify_from_scratch.train.log_every=5
  stages.pretrain.backbone.embedding_dim=16 stages.pretrain.backbone.hidden_size=24
  stages.classify.train.epochs=3 stages.classify.train.checkpoint_every=4
  stages.classify_from_scratch.train.epochs=3 stages.classify_from_scratch.train.checkpoint_every=4
  stages.classify_from_scratch.backbone.embedding_dim=16
  stages.classify_from_scratch.backbone.hidden_size=24)
# Replaces the calling (sub)shell, so the pid that gets the SIGKILL is lmforge's own.
run() { exec env OMP_WAIT_POLICY=passive "$cli" run recipes/quickstart.yaml --out "$1" "${@:2}" "${shrink[@]}"; }

# Metrics without the fields that measure time or memory, stage by stage.
comparable() {
  for stage in pretrain classify classify_from_scratch; do
    sed -E 's/"(tokens_per_sec|train_seconds|peak_rss_mib|communication_seconds)": [^,}]*(, )?//g' \
      "$1/quickstart/$stage/metrics.jsonl"
  done
}

started=$(date +%s.%N)
(run "$work/reference") >"$work/reference.log" 2>&1 || { cat "$work/reference.log" >&2; exit 1; }
duration=$(echo "$(date +%s.%N) - $started" | bc)
echo "killtest: uninterrupted run took ${duration} s; killing other runs at $kills random moments"

# Rounds: a fresh run killed and resumed until it gets to its end, then compared. A resumed run
# has less left to do than the delay may allow; when it finishes first, that round is over.
survived=0 rounds=0 attempts=0
while ((survived < kills)); do
  rm -rf "$work/killed"
  resume=() round_kills=0
  while ((survived < kills)); do
    ((++attempts))
    ((attempts <= 10 * kills + 10)) || { echo "killtest: too many attempts" >&2; exit 1; }
    permille=$((RANDOM % 1000))
    delay=$(echo "scale=3; $duration * $permille / 1000" | bc)
    (run "$work/killed" "${resume[@]}") >>"$work/killed.log" 2>&1 &
    pid=$!
    sleep "$delay"
    if kill -KILL "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      ((++survived, ++round_kills))
      where=$(cd "$work/killed/quickstart" 2>/dev/null && ls -td -- */ 2>/dev/null | grep -v '^data/' | head -1 || true)
      echo "killtest: kill $survived after ${delay} s (newest stage folder: ${where:-none yet})"
      resume=(--resume)
    else
      wait "$pid" || { echo "killtest: run failed, see $work/killed.log" >&2; tail -5 "$work/killed.log" >&2; exit 1; }
      break
    fi
  done
  if ((survived >= kills)); then
    (run "$work/killed" --resume) >>"$work/killed.log" 2>&1 ||
      { echo "killtest: final resume failed" >&2; tail -5 "$work/killed.log" >&2; exit 1; }
  fi
  ((round_kills > 0)) || continue
  ((++rounds))
  if ! diff <(comparable "$work/reference") <(comparable "$work/killed") >"$work/diff.txt"; then
    echo "killtest: metrics differ after round $rounds ($round_kills kills):" >&2
    head -20 "$work/diff.txt" >&2
    exit 1
  fi
  echo "killtest: round $rounds: $round_kills kill(s), then resumed to the end: identical metrics"
done
lines=$(comparable "$work/reference" | wc -l)
echo "killtest: $survived kills survived in $rounds round(s); each round's $lines metrics records identical to the uninterrupted run's"
grep -h '"split": "test"' "$work/killed/quickstart/"*/metrics.jsonl | sed 's/^/  /'
