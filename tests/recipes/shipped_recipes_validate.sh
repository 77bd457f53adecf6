#!/usr/bin/env bash
# Every recipe the repository ships (recipes/*.yaml, recipes/bench/*.yaml) passes `lmforge
# validate` against the real data sets: options known, plugins found, files present, stages
# resolved. A recipe that drifts from the plugins' options fails here rather than in a user's
# first run.
#   tests/recipes/shipped_recipes_validate.sh    (LMFORGE_CLI: the lmforge binary;
#                                                 LMFORGE_DATA: the data sets)
# Exit 77 (ctest: skipped) when the data sets are absent.
set -euo pipefail
cli="${LMFORGE_CLI:?LMFORGE_CLI must name the lmforge binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="${LMFORGE_DATA:-$root/../shared/data}"
[[ -d $data/wikitext-2 ]] || { echo "SKIP: data sets not found at $data (set LMFORGE_DATA)"; exit 77; }
failed=0 checked=0
for recipe in "$root"/recipes/*.yaml "$root"/recipes/bench/*.yaml; do
  checked=$((checked + 1))
  if ! out=$("$cli" validate "$recipe" --data-dir "$data" 2>&1); then
    echo "FAIL: ${recipe#"$root"/}"
    echo "$out" | sed 's/^/  /'
    failed=$((failed + 1))
  fi
done
echo "$checked recipes checked, $failed failed"
((failed == 0))
