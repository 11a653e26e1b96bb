#!/usr/bin/env bash
# Builds every fuzz target, then runs each for SECONDS (default 20), one after another.
# Exits non-zero if any target panicked, crashed, hung (10 s on one input) or ran out of
# memory; the input that did it is saved in artifacts/<target>/. Each run's corpus is kept in
# corpus/<target>/ and seeds the next run.
#
#   server/fuzz/run.sh 600                       # ten minutes per target
#   FUZZ_SANITIZER=address server/fuzz/run.sh 60 # with AddressSanitizer (slower builds and runs)
set -euo pipefail
seconds=${1:-20}
cd "$(dirname "$0")" # where rust-toolchain.toml picks the pinned nightly
# cargo-fuzz sets its own RUSTFLAGS and appends these, which replace .cargo/config.toml's: the
# erased view types keep the dashboard's layouts within the compiler's query depth, as in the
# main build.
export RUSTFLAGS="--cfg erase_components"
export PATH="$HOME/.cargo/bin:$PATH"

# The server forbids unsafe code, so AddressSanitizer has little to find in it; without it the
# build is faster and every second of fuzzing tries more inputs.
sanitizer=${FUZZ_SANITIZER:-none}
# Release optimisations with debug assertions and overflow checks on.
# Sixteen codegen units: a much faster cold build (it runs on every fresh CI machine) for
# somewhat slower runs.
flags=(-O --debug-assertions --codegen-units 16 --sanitizer "$sanitizer")

# Fuzz the dependency versions hookhub ships: start from the main workspace's lockfile.
cp ../../Cargo.lock Cargo.lock
cargo fuzz build "${flags[@]}"

failed=()
for target in $(cargo fuzz list); do
  printf '\n==> fuzzing %s for %s s\n' "$target" "$seconds"
  mkdir -p "corpus/$target"
  if ! cargo fuzz run "${flags[@]}" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
    failed+=("$target")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing found a problem in: ${failed[*]} (inputs in server/fuzz/artifacts/)" >&2
  exit 1
fi
