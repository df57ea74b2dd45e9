#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each one:
#   scripts/fuzz.sh short   ~30 s per target (make test)
#   scripts/fuzz.sh long    10 min per target, or FUZZ_SECONDS (make fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-short}
secs=${FUZZ_SECONDS:-$([ "$mode" = long ] && echo 600 || echo 30)}
make -s build/gen/whiteboard.pb-c.c >/dev/null
out=build/fuzz
mkdir -p "$out"
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 -Icommon -Ibuild/gen $(pkg-config --cflags jansson libprotobuf-c)"
LIBS="$(pkg-config --libs jansson libprotobuf-c) -lm"
srcs="common/wb_frame.c common/wb_ratelimit.c common/wb_codec.c common/wb_elem.c common/wb_jget.c common/wb_jw.c common/wb_valid.c common/wb_fold.c common/wb_map.c build/gen/whiteboard.pb-c.c"
for t in msg op; do
  bin=$out/wb_${t}_fuzz
  if [ ! -x "$bin" ] || [ -n "$(find common proto -newer "$bin" -name '*.[ch]' -o -newer "$bin" -name '*.proto' | head -1)" ]; then
    clang $CFLAGS -o "$bin" common/wb_${t}_fuzz.c $srcs $LIBS
  fi
  corpus=build/fuzz/corpus-$t
  mkdir -p "$corpus"
  seeds=tests/fuzz-seeds/$t
  if ! compgen -G "$seeds/*" > /dev/null; then
    echo "fuzz: $t has no seed corpus ($seeds/ is missing or empty): add seeds, see tests/fuzz-seeds/README.md" >&2
    exit 1
  fi
  cp -n "$seeds"/* "$corpus"/
  echo "fuzz: $t for ${secs}s"
  rc=0
  "$bin" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/" "$corpus" > "$out/$t.log" 2>&1 || rc=$?
  grep -E "^(#[0-9]+ *DONE|stat::number_of_executed_units|SUMMARY)" "$out/$t.log" || true
  if [ "$rc" != 0 ]; then
    echo "fuzz: $t FAILED (exit $rc); artifacts in $out/ :"; ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* 2>/dev/null
    grep -A30 -E "ERROR|runtime error" "$out/$t.log" | head -60
    exit 1
  fi
done
echo "fuzz: no crashes"
