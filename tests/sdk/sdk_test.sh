#!/usr/bin/env bash
# The plugin SDK as a user meets it, run by ctest (label sdk):
#
#   sdk_test.sh build BINARY_DIR TARGET...   build what `cmake --install` copies (a no-op when built)
#   sdk_test.sh workflow SOURCE_DIR BINARY_DIR WORK_BASE
#       runs the shell block of README.md's "Write a plugin" section as written -- install the SDK,
#       `lmforge new plugin`, build the plugin as a separate CMake project, its Catch2 test, train
#       with it -- then checks the install (layout, RUNPATHs, bundled plugins found without
#       environment), the plugin's exported symbols, the three ways of naming a plugin
#       ($LMFORGE_PLUGIN_PATH, --plugin-path, a recipe's plugins: list), the metrics, and the
#       refusals of `lmforge new` and of a plugin registering a taken name.
#   sdk_test.sh abi SOURCE_DIR BINARY_DIR WORK_BASE
#       builds a generated plugin against the installed SDK with -DLMFORGE_ABI_VERSION=999, and
#       the plugins of tests/sdk/refusals (another LibTorch version, a missing symbol), and checks
#       the CLI refuses each with one line naming the file and the reason.
#   sdk_test.sh templates SOURCE_DIR BINARY_DIR WORK_BASE
#       the other kinds, `lmforge new plugin --kind head` and `--kind task`: each project builds,
#       its Catch2 test passes and its recipe trains, all without edits; and tests/sdk/hashtag_task,
#       a task plugin on the SDK's LabelledTask, builds, trains and predicts (`lmforge predict`).
#
# Each run works in a fresh folder under WORK_BASE, removed when every check passed and kept for a
# look when one failed. Prints one PASS or FAIL line per check; exits non-zero on the first failure.
set -uo pipefail

pass() { echo "PASS: $*"; }
done_ok() {
  rm -rf "$work"
  echo "PASS: sdk $mode: all checks in ${SECONDS}s"
  exit 0
}
fail() {
  echo "FAIL: $*"
  [[ -n ${work:-} ]] && echo "(files kept in $work)"
  exit 1
}
# Shows the end of a log, indented, when a step fails.
show() { sed -e 's/^/    | /' "$1" | tail -n "${2:-40}"; }

mode=${1:-}
case "$mode" in
  build)
    bin=$2
    shift 2
    log=$bin/tests/sdk_build.log
    if cmake --build "$bin" --target "$@" >"$log" 2>&1; then
      pass "lmforge is built (CLI and bundled plugins), ready to install"
      exit 0
    fi
    show "$log"
    fail "building lmforge before installing it (cmake --build $bin); see $log"
    ;;
  workflow | abi | templates) ;;
  *)
    echo "usage: $0 build BINARY_DIR TARGET... | workflow|abi|templates SOURCE_DIR BINARY_DIR WORK_BASE" >&2
    exit 2
    ;;
esac

src=$2
bin=$3
# A folder of its own, so two runs of the suite on one build tree never share files.
if ! mkdir -p "$4" || ! work=$(mktemp -d "$4/$mode.XXXXXX"); then
  fail "cannot create a folder under $4"
fi
# The SDK must work without the variables a developer may have set for the build tree.
unset LMFORGE_PLUGIN_PATH LD_LIBRARY_PATH LMFORGE_DATA

# Runs "$@", keeping stdout+stderr in $out and the exit code in $rc.
capture() {
  out=$("$@" 2>&1)
  rc=$?
}

if [[ $mode == workflow ]]; then
  readme=$src/README.md
  # The first ```sh block of the "Write a plugin" section, exactly as a reader would paste it.
  block=$(awk '/^## / { section = ($0 == "## Write a plugin") }
    section && /^```sh$/ { inside = 1; next }
    inside && /^```/ { exit }
    inside' "$readme")
  [[ -n $block ]] || fail "no \`\`\`sh block in the 'Write a plugin' section of $readme"
  # The block runs from a checkout whose build folder is ./build and installs under $HOME.
  home=$work/home
  mkdir -p "$home"
  ln -s "$bin" "$work/build"
  log=$work/readme.log
  echo "running the commands of $readme in $work (HOME=$home); log: $log"
  if ! (cd "$work" && HOME=$home bash -euxo pipefail -c "$block") >"$log" 2>&1; then
    show "$log" 60
    fail "the README's 'Write a plugin' commands (log: $log)"
  fi
  pass "README 'Write a plugin' commands: install, lmforge new, build, plugin test, run"

  prefix=$home/lmforge-sdk
  cli=$prefix/bin/lmforge
  plugin=$work/my_gru/build/my_gru.so

  for f in bin/lmforge lib/liblmforge.so include/lmforge/plugin.h include/lmforge/backbone.h \
    lib/cmake/lmforge/lmforgeConfig.cmake lib/cmake/lmforge/lmforgeTargets.cmake \
    lib/cmake/lmforge/lmforge_plugin.cmake lib/cmake/lmforge/plugin_exports.map \
    lib/lmforge/plugins/lmforge_lstm.so; do
    [[ -e $prefix/$f ]] || fail "installed SDK lacks $f"
  done
  pass "installed layout: bin/lmforge, lib/liblmforge.so, include/lmforge, lib/cmake/lmforge, lib/lmforge/plugins"

  runpath() { readelf -d "$1" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p;s/.*(RPATH).*\[\(.*\)\]/\1/p'; }
  # shellcheck disable=SC2016  # $ORIGIN stands for itself in a RUNPATH
  origin='$ORIGIN'
  lstm=$prefix/lib/lmforge/plugins/lmforge_lstm.so
  [[ $(runpath "$cli") == *"$origin/../lib"* ]] ||
    fail "bin/lmforge RUNPATH is '$(runpath "$cli")', expected $origin/../lib"
  [[ $(runpath "$lstm") == *"$origin/../.."* ]] ||
    fail "bundled plugin RUNPATH is '$(runpath "$lstm")', expected $origin/../.."
  for f in "$cli" "$prefix"/lib/liblmforge.so "$prefix"/lib/lmforge/plugins/*.so; do
    [[ $(runpath "$f") != *"$bin"* ]] || fail "$f still points into the build tree: $(runpath "$f")"
  done
  resolved=$(realpath "$(ldd "$cli" | awk '/liblmforge/ { print $3 }')")
  [[ $resolved == "$(realpath "$prefix")/lib/liblmforge.so"* ]] ||
    fail "bin/lmforge loads liblmforge from '$resolved', not the prefix"
  pass "RUNPATHs: bin/lmforge -> \$ORIGIN/../lib, plugins -> \$ORIGIN/../.., nothing points into the build tree"

  capture "$cli" plugins --describe lstm
  [[ $rc == 0 && $out == *"from $prefix/lib/lmforge/plugins/lmforge_lstm.so"* ]] ||
    fail "installed CLI does not find its bundled plugins without environment variables: $out"
  pass "installed CLI loads its bundled plugins from $prefix/lib/lmforge/plugins, no environment needed"

  [[ -f $plugin ]] || fail "the generated project did not build $plugin"
  # Without Catch2 the generated project skips its test, and ctest passes with nothing to run.
  { grep -q 'tests passed' "$log" && [[ -x $work/my_gru/build/my_gru_test ]]; } ||
    fail "the generated project's Catch2 test was not built and run (log: $log)"
  exported=$(nm -D --defined-only "$plugin" | awk '$2 ~ /^[TDBRVWi]$/ { print $3 }' | sort | tr '\n' ' ')
  [[ $exported == "lmforge_plugin_components lmforge_plugin_info lmforge_plugin_register " ]] ||
    fail "my_gru.so exports more than the handshake: $exported"
  pass "my_gru.so exports only lmforge_plugin_info, lmforge_plugin_components and lmforge_plugin_register"

  # The SDK library exports its public classes and nothing of the core: a plugin cannot link
  # against the trainer, the plugin loader, the recipe engine or the internal helpers.
  sdk_lib=$(readlink -f "$prefix/lib/liblmforge.so")
  sdk_symbols=$(nm -DC --defined-only "$sdk_lib" | awk '$2 ~ /^[TDBRVWiu]$/' | cut -d' ' -f3-)
  for public in 'lmforge::Registry::instance()' 'typeinfo for lmforge::Backbone' \
    'lmforge::Vocabulary::'; do
    grep -qF "$public" <<<"$sdk_symbols" || fail "liblmforge.so does not export $public"
  done
  internals=$(grep -E 'lmforge::(Trainer|PluginLoader|Recipe|run_recipe|register_builtins|LanguageModelingTask|ClassificationTask|text::|io::|closest_match|did_you_mean)' <<<"$sdk_symbols" | head -5)
  [[ -z $internals ]] || fail "liblmforge.so exports internals: $internals"
  pass "liblmforge.so exports $(wc -l <<<"$sdk_symbols") symbols, none of the core's (trainer, loader, recipe, helpers)"

  capture "$cli" plugins --describe my_gru --plugin-path "$work/my_gru/build"
  [[ $rc == 0 && $out == *"from $plugin"* && $out == *hidden_size* ]] ||
    fail "lmforge plugins --describe my_gru: $out"
  pass "lmforge plugins --describe my_gru documents its options, from $plugin"

  # The other two ways to name a plugin: the environment, and the recipe itself (the generated
  # recipe carries the line, commented out; a copy beside it keeps ${recipe_dir} the same).
  mkdir -p "$work/empty"
  capture env LMFORGE_PLUGIN_PATH="$work/empty:$work/my_gru/build" "$cli" plugins --describe my_gru
  [[ $rc == 0 && $out == *"from $plugin"* ]] ||
    fail "LMFORGE_PLUGIN_PATH=$work/empty:$work/my_gru/build lmforge plugins --describe my_gru (exit $rc): $out"
  pass "\$LMFORGE_PLUGIN_PATH (':'-separated) loads my_gru.so"
  listed=$work/my_gru/recipe_with_plugins.yaml
  sed 's/^# *plugins:/plugins:/' "$work/my_gru/recipe.yaml" >"$listed"
  grep -q '^plugins:' "$listed" || fail "the generated recipe has no commented plugins: line to enable"
  capture "$cli" validate "$listed"
  [[ $rc == 0 && $out == *": ok (2 stages)"* ]] ||
    fail "lmforge validate with the recipe's plugins: list (exit $rc): $out"
  pass "a recipe's plugins: list loads my_gru.so (lmforge validate: $out)"

  grep -q '^run finished' "$log" || fail "lmforge run did not finish (log: $log)"
  pretrain=$work/runs/my_gru/pretrain/metrics.jsonl
  classify=$work/runs/my_gru/classify/metrics.jsonl
  # Keys are written in sorted order, so look for the metric and the split separately.
  grep -s '"split": "test"' "$pretrain" | grep -q '"ppl"' || fail "no test perplexity in $pretrain"
  grep -s '"split": "test"' "$classify" | grep -q '"accuracy"' || fail "no test accuracy in $classify"
  { grep -q 'backbone my_gru, head lm' "$log" && grep -q 'backbone my_gru, head classifier' "$log"; } ||
    fail "the run did not train my_gru with the lm head and then the classifier head"
  pass "trained: my_gru with an lm head ($(grep '"split": "test"' "$pretrain" | grep -o '"ppl": [0-9.]*')), then with a classifier ($(grep '"split": "test"' "$classify" | grep -o '"accuracy": [0-9.]*'))"

  # Loading the same plugin from a second file registers "my_gru" twice: refused, naming the file.
  mkdir -p "$work/copy"
  cp "$plugin" "$work/copy/my_gru_copy.so"
  capture "$cli" plugins --plugin-path "$work/my_gru/build" --plugin-path "$work/copy"
  [[ $rc == 3 && $out == *"$work/copy/my_gru_copy.so"* && $out == *"already registered"* &&
    $(wc -l <<<"$out") == 1 ]] || fail "a second plugin registering my_gru (exit $rc): $out"
  pass "a plugin registering a taken name is refused in one line naming the file (exit 3)"

  # lmforge new: an existing folder, a bad name, a bad kind and a taken name are refused.
  capture "$cli" new plugin my_gru --kind backbone --dir "$work/my_gru"
  [[ $rc == 2 && $out == *"$work/my_gru: already exists"* ]] || fail "lmforge new into an existing folder (exit $rc): $out"
  capture "$cli" new plugin 2fast --kind head --dir "$work/other"
  [[ $rc == 2 && $out == *"plugin name '2fast'"* && ! -e $work/other ]] || fail "lmforge new with a bad name (exit $rc): $out"
  capture "$cli" new plugin my_head --kind haed --dir "$work/other"
  [[ $rc == 2 && $out == *"did you mean 'head'"* && ! -e $work/other ]] || fail "lmforge new with a bad kind (exit $rc): $out"
  capture "$cli" new plugin lstm --kind backbone --dir "$work/other"
  [[ $rc == 2 && $out == *"already exists"*lmforge_lstm.so* && ! -e $work/other ]] || fail "lmforge new with a taken name (exit $rc): $out"
  pass "lmforge new refuses an existing folder, a bad name, a bad kind and a taken name (exit 2)"
  done_ok
fi

prefix=$work/prefix
cli=$prefix/bin/lmforge
cmake --install "$bin" --prefix "$prefix" >"$work/install.log" 2>&1 || {
  show "$work/install.log"
  fail "cmake --install $bin --prefix $prefix"
}

if [[ $mode == templates ]]; then
  # Each entry is the plugin's name suffix: my_head (--kind head), my_task (--kind task) and
  # my_bag (--kind backbone --template bag, the non-recurrent encoder).
  kinds=(head task bag)
  declare -A new_args=([head]="--kind head" [task]="--kind task" [bag]="--kind backbone --template bag")
  for kind in "${kinds[@]}"; do
    # shellcheck disable=SC2086  # the arguments are words
    capture "$cli" new plugin "my_$kind" ${new_args[$kind]} --dir "$work/my_$kind"
    [[ $rc == 0 ]] || fail "lmforge new plugin my_$kind ${new_args[$kind]}: $out"
    cmake -S "$work/my_$kind" -B "$work/my_$kind/build" -DCMAKE_PREFIX_PATH="$prefix" \
      >"$work/my_$kind.configure.log" 2>&1 || {
      show "$work/my_$kind.configure.log"
      fail "configuring my_$kind against the installed SDK"
    }
  done
  # A task plugin on the SDK's LabelledTask (tests/sdk/hashtag_task), built the same way.
  cp -r "$src/tests/sdk/hashtag_task" "$work/hashtag_task"
  cmake -S "$work/hashtag_task" -B "$work/hashtag_task/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$work/hashtag_task.configure.log" 2>&1 || {
    show "$work/hashtag_task.configure.log"
    fail "configuring tests/sdk/hashtag_task against the installed SDK"
  }
  # Within one project make builds the plugin before its test; projects side by side keep both
  # cores busy.
  for kind in "${kinds[@]}"; do
    cmake --build "$work/my_$kind/build" >"$work/my_$kind.build.log" 2>&1 &
  done
  cmake --build "$work/hashtag_task/build" >"$work/hashtag_task.build.log" 2>&1 &
  wait
  for kind in "${kinds[@]}"; do
    [[ -f $work/my_$kind/build/my_$kind.so && -x $work/my_$kind/build/my_${kind}_test ]] || {
      show "$work/my_$kind.build.log"
      fail "building the generated $kind plugin and its test"
    }
    pass "--kind $kind: the generated project builds against the installed SDK"
    ctest --test-dir "$work/my_$kind/build" --output-on-failure >"$work/my_$kind.ctest.log" 2>&1 || {
      show "$work/my_$kind.ctest.log"
      fail "the generated $kind plugin's Catch2 test"
    }
    pass "--kind $kind: its Catch2 test passes"
    (cd "$work/my_$kind" && "$cli" run recipe.yaml --plugin-path build) >"$work/my_$kind.run.log" 2>&1 || {
      show "$work/my_$kind.run.log"
      fail "lmforge run my_$kind/recipe.yaml --plugin-path my_$kind/build"
    }
    metrics=$(cat "$work/my_$kind/runs/my_$kind"/*/metrics.jsonl | grep '"split": "test"' |
      grep '"accuracy"' | tail -n 1)
    [[ $metrics == *'"accuracy"'* ]] || fail "no test metrics after running my_$kind/recipe.yaml"
    pass "--kind $kind: its recipe trains (test $(grep -o '"accuracy": [0-9.]*' <<<"$metrics"))"
  done

  # The out-of-tree task trains, then `lmforge predict` labels new texts through Task::predict.
  [[ -f $work/hashtag_task/build/hashtag_task.so ]] || {
    show "$work/hashtag_task.build.log"
    fail "building tests/sdk/hashtag_task against the installed SDK"
  }
  pass "an out-of-tree task plugin on LabelledTask builds against the installed SDK"
  mkdir -p "$work/hashtag_task/data"
  RANDOM=7
  good=(great wonderful superb moving) bad=(awful boring dull clumsy)
  for split in train:400 test:100; do
    for ((i = 0; i < ${split#*:}; i++)); do
      if ((RANDOM % 2)); then
        echo "the film was ${good[RANDOM % 4]} and ${good[RANDOM % 4]} #pos"
      else
        echo "the film was ${bad[RANDOM % 4]} and ${bad[RANDOM % 4]} #neg"
      fi
    done >"$work/hashtag_task/data/${split%:*}.txt"
  done
  (cd "$work/hashtag_task" && "$cli" run recipe.yaml --plugin-path build --out runs) \
    >"$work/hashtag_task.run.log" 2>&1 || {
    show "$work/hashtag_task.run.log"
    fail "lmforge run hashtag_task/recipe.yaml --plugin-path hashtag_task/build"
  }
  accuracy=$(grep '"split": "test"' "$work/hashtag_task/runs/hashtag/classify/metrics.jsonl" |
    grep -o '"accuracy": [0-9.]*' | tail -n 1)
  [[ ${accuracy#*: } == 1* || ${accuracy#*: } == 0.9* ]] ||
    fail "the hashtag task should separate its two vocabularies (test $accuracy)"
  pass "the out-of-tree task trains (test $accuracy)"
  capture "$cli" predict "$work/hashtag_task/runs/hashtag" --plugin-path "$work/hashtag_task/build" \
    --text "the film was superb and moving" --text "the film was dull and awful"
  [[ $rc == 0 && $(sed -n 1p <<<"$out") == pos$'\t'* && $(sed -n 2p <<<"$out") == neg$'\t'* ]] ||
    fail "lmforge predict with the out-of-tree task (exit $rc): $out"
  pass "lmforge predict labels texts with the out-of-tree task: $(tr '\t\n' ' |' <<<"$out")"
  done_ok
fi

# abi: the same external path, compiled for a plugin ABI this lmforge does not speak, plus the
# small plugins of tests/sdk/refusals (another LibTorch, a missing symbol).
host_abi=$("$cli" --version | sed -n 's/.*plugin ABI \([0-9]*\).*/\1/p')
[[ -n $host_abi && $host_abi != 999 ]] || fail "cannot read the plugin ABI from lmforge --version"
capture "$cli" new plugin old_abi --kind head --dir "$work/old_abi"
[[ $rc == 0 ]] || fail "lmforge new plugin old_abi --kind head: $out"
if ! cmake -S "$work/old_abi" -B "$work/old_abi/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_FLAGS=-DLMFORGE_ABI_VERSION=999 >"$work/old_abi.configure.log" 2>&1; then
  show "$work/old_abi.configure.log"
  fail "configuring old_abi against the installed SDK with -DLMFORGE_ABI_VERSION=999"
fi
if ! cmake -S "$src/tests/sdk/refusals" -B "$work/refusals" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$work/refusals.configure.log" 2>&1; then
  show "$work/refusals.configure.log"
  fail "configuring $src/tests/sdk/refusals against the installed SDK"
fi
# Side by side: old_abi is one LibTorch compile, the refusals two light ones.
cmake --build "$work/old_abi/build" --target old_abi >"$work/old_abi.build.log" 2>&1 &
cmake --build "$work/refusals" >"$work/refusals.build.log" 2>&1 &
wait
so=$work/old_abi/build/old_abi.so
[[ -f $so ]] || {
  show "$work/old_abi.build.log"
  fail "building old_abi against the installed SDK with -DLMFORGE_ABI_VERSION=999"
}
pass "built $so against the installed SDK with -DLMFORGE_ABI_VERSION=999"
for name in other_torch needs_missing; do
  [[ -f $work/refusals/$name.so ]] || {
    show "$work/refusals.build.log"
    fail "building $name.so (tests/sdk/refusals) against the installed SDK"
  }
done
pass "built other_torch.so and needs_missing.so (tests/sdk/refusals) against the installed SDK"

# refused FILE WHAT EXPECTED... : `lmforge plugins --plugin-path FILE` exits 3 with one line that
# names the file and contains every EXPECTED text.
refused() {
  local file=$1 what=$2
  shift 2
  capture "$cli" plugins --plugin-path "$file"
  [[ $rc == 3 ]] || fail "lmforge plugins accepted $what (exit $rc): $out"
  [[ $(wc -l <<<"$out") == 1 ]] || fail "the refusal of $what is not one line: $out"
  [[ $out == *"$file"* ]] || fail "the refusal of $what does not name $file: $out"
  for expected in "$@"; do
    [[ $out == *"$expected"* ]] || fail "the refusal of $what does not say '$expected': $out"
  done
  echo "    $out"
  pass "$what is refused in one line naming the file and the reason (exit 3)"
}
refused "$so" "a plugin built for ABI 999" "ABI 999" "ABI $host_abi"
refused "$work/refusals/other_torch.so" "a plugin built against LibTorch 0.1" "LibTorch 0.1"
refused "$work/refusals/needs_missing.so" "a plugin with a missing symbol" \
  "lmforge_sdk_test_function_nobody_defines"

# `lmforge run` refuses before it trains anything.
capture "$cli" run "$work/old_abi/recipe.yaml" --out "$work/runs" --plugin-path "$work/old_abi/build"
[[ $rc == 3 && $(wc -l <<<"$out") == 1 && $out == *"$so"* && $out == *"ABI 999"* ]] ||
  fail "lmforge run with the ABI 999 plugin (exit $rc): $out"
[[ ! -e $work/runs/old_abi ]] || fail "lmforge run started training despite the refused plugin"
pass "lmforge run refuses it the same way, before training anything"
done_ok
