#!/usr/bin/env bash
# `lmforge report` as a person sees it: trains the quickstart (shrunk to seconds), writes its
# report, opens the page in headless Chromium, and fails on a script error, a console error or an
# empty chart; keeps a screenshot beside the page.
#   tests/report/render_in_chromium.sh OUT_DIR    (LMFORGE_CLI: the lmforge binary)
# Exit 77 (ctest: skipped) when Chromium is not installed (tools/setup.sh --tests installs it).
set -euo pipefail
out="${1:?usage: render_in_chromium.sh OUT_DIR}"
cli="${LMFORGE_CLI:?LMFORGE_CLI must name the lmforge binary}"
cd "$(dirname "$0")/../.."
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
  echo "SKIP: no chromium on PATH (apt-get install chromium, or tools/setup.sh --tests)"
  exit 77
fi
rm -rf "$out" && mkdir -p "$out"
OMP_WAIT_POLICY=passive "$cli" run recipes/quickstart.yaml --out "$out/runs" threads=1 \
  generate_data.sentences=3000 generate_data.labelled_fraction=0.05 \
  stages.pretrain.train.epochs=1 stages.classify.train.epochs=3 \
  stages.classify_from_scratch.train.epochs=3 > "$out/run.log" 2>&1 ||
  { cat "$out/run.log"; echo "FAIL: the quickstart did not run"; exit 1; }
grep -q "^report: $out/runs/quickstart/report.html" "$out/run.log" ||
  { tail -5 "$out/run.log"; echo "FAIL: lmforge run did not print the report's path"; exit 1; }
page="$out/report.html"
"$cli" report "$out/runs/quickstart" --out "$page"

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
  --user-data-dir="$profile" --enable-logging=stderr --v=0 --window-size=1280,6000)
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$(realpath "$page")" \
  > "$out/dom.html" 2> "$out/chromium.log" || { tail -20 "$out/chromium.log"; echo "FAIL: chromium"; exit 1; }
timeout 120 "$browser" "${flags[@]}" --screenshot="$out/report.png" "file://$(realpath "$page")" \
  >> "$out/chromium.log" 2>&1 || { tail -20 "$out/chromium.log"; echo "FAIL: screenshot"; exit 1; }

body=$(grep -o '<body[^>]*>' "$out/dom.html" | head -1)
attr() { sed -n "s/.* $1=\"\([^\"]*\)\".*/\1/p" <<<"$body"; }
status=0
[[ $(attr data-checked) == yes ]] || { echo "FAIL: the page's self-check did not run: $body"; status=1; }
charts=$(attr data-charts)
# Three stages: loss, lr and throughput each; the pre-training's ppl, bpc, bits_per_token and
# unigram_ppl; accuracy and macro_f1 of both classifiers; two confusion matrices; three maps.
[[ ${charts:-0} -ge 20 ]] || { echo "FAIL: $charts charts, expected at least 20"; status=1; }
[[ -z $(attr data-empty-charts) ]] || { echo "FAIL: empty charts: $(attr data-empty-charts)"; status=1; }
[[ $(attr data-console-errors) == 0 ]] || { echo "FAIL: console errors on the page"; status=1; }
if grep -E 'CONSOLE.*(Uncaught|Error)' "$out/chromium.log"; then echo "FAIL: script error"; status=1; fi
[[ -s $out/report.png && $(stat -c %s "$out/report.png") -gt 20000 ]] ||
  { echo "FAIL: no screenshot (or a blank one)"; status=1; }
grep -q 'class="samples"' "$page" || { echo "FAIL: no generated samples"; status=1; }
# The TensorBoard event files beside the page, read by TensorBoard's own reader when installed.
reader_python=""
for candidate in .venv/bin/python python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c "import tensorboard" 2>/dev/null; then
    reader_python=$candidate
    break
  fi
done
if [[ -n $reader_python ]]; then
  "$reader_python" - "$out/runs/quickstart/tensorboard" <<'PY' || status=1
import glob, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
for stage in sorted(glob.glob(sys.argv[1] + "/*")):
    events = EventAccumulator(stage)
    events.Reload()
    tags = events.Tags()["scalars"]
    assert "valid/loss" in tags, (stage, tags)
    points = sum(len(events.Scalars(tag)) for tag in tags)
    assert all(e.value == e.value for tag in tags for e in events.Scalars(tag)), stage
    print("TensorBoard reads %s: %d scalar tags, %d points" % (
        stage.rsplit("/", 1)[-1], len(tags), points))
PY
else
  echo "note: tensorboard (Python) not installed; the event files were not read back by it"
fi
((status == 0)) && echo "PASS: $charts charts, no empty chart, no console error; screenshot $out/report.png"
exit $status
