#!/usr/bin/env bash
# run.sh [SECONDS] - builds the decoders' libFuzzer harnesses with ASan and UBSan and runs
# each for SECONDS (default 60):
#   fuzz_envelope  the consumer's decode path (envelope, guard, body view against Avro-C)
#                  on Kafka values;
#                  seeds: a copy of tests/fuzz/corpus/ in tests/fuzz/corpus-run/
#   fuzz_json      the import line parser (json_parse against jansson, jsonl_parse_line);
#                  seeds: tests/fuzz/corpus-json/ copied to tests/fuzz/corpus-json-run/
#   fuzz_fast      the import's one pass (json_fast) against the full path: same bytes
#                  whenever it takes a line; seeds: the same JSON corpus, in
#                  tests/fuzz/corpus-fast-run/
# The run directories are git-ignored. Exit 0 when no crash was found; crash inputs are
# left in build/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
out=build/fuzz
mkdir -p "$out/artifacts" tests/fuzz/corpus-run

schemas=$(ls schemas/*.avsc schemas/history/*.avsc 2>/dev/null | sort)
./deploy/embed.sh "$out/schemas_embedded.c" $schemas

# The decode path only: the codec, the guard, the schema registry, error names.
srcs="lib/codec.c lib/body_view.c lib/avro_guard.c lib/schema.c lib/error.c $out/schemas_embedded.c"
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Ilib \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
echo "== building $out/fuzz_envelope"
# shellcheck disable=SC2086
clang $flags $(pkg-config --cflags avro-c jansson) -o "$out/fuzz_envelope" \
  tests/fuzz/fuzz_envelope.c $srcs $(pkg-config --libs avro-c jansson)

echo "== building $out/fuzz_json"
# shellcheck disable=SC2086
clang $flags $(pkg-config --cflags jansson yajl) -o "$out/fuzz_json" \
  tests/fuzz/fuzz_json.c lib/json_parse.c lib/json_scan.c lib/jsonl.c lib/error.c $(pkg-config --libs jansson yajl)

echo "== building $out/fuzz_fast"
# shellcheck disable=SC2086
clang $flags $(pkg-config --cflags avro-c jansson yajl) -o "$out/fuzz_fast" \
  tests/fuzz/fuzz_fast.c lib/json_fast.c lib/json_scan.c lib/json_avro.c lib/json_parse.c lib/jsonl.c \
  lib/quarter.c lib/str.c $srcs $(pkg-config --libs avro-c jansson yajl libcrypto)

cp -n tests/fuzz/corpus/* tests/fuzz/corpus-run/ 2>/dev/null || true
echo "== fuzzing for ${seconds}s (corpus: tests/fuzz/corpus-run)"
# Avro-C's generic values keep pointers at unaligned offsets inside records; without
# use_unaligned LeakSanitizer cannot see them and reports the reused values as leaks.
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 LSAN_OPTIONS=use_unaligned=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$out/fuzz_envelope" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 -artifact_prefix="$out/artifacts/" \
  tests/fuzz/corpus-run

mkdir -p tests/fuzz/corpus-json-run
cp -n tests/fuzz/corpus-json/* tests/fuzz/corpus-json-run/ 2>/dev/null || true
echo "== fuzzing fuzz_json for ${seconds}s (corpus: tests/fuzz/corpus-json-run)"
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$out/fuzz_json" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 \
  -timeout=10 -print_final_stats=1 -artifact_prefix="$out/artifacts/" \
  tests/fuzz/corpus-json-run

mkdir -p tests/fuzz/corpus-fast-run
cp -n tests/fuzz/corpus-json/* tests/fuzz/corpus-fast-run/ 2>/dev/null || true
i=0   # and the second dataset's lines, one seed each
while IFS= read -r line; do
  i=$((i + 1))
  printf '%s' "$line" > "tests/fuzz/corpus-fast-run/second-$i.json"
done < tests/it/data/second-2019q3.jsonl
echo "== fuzzing fuzz_fast for ${seconds}s (corpus: tests/fuzz/corpus-fast-run)"
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 LSAN_OPTIONS=use_unaligned=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$out/fuzz_fast" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 \
  -dict=tests/fuzz/fast.dict \
  -timeout=10 -print_final_stats=1 -artifact_prefix="$out/artifacts/" \
  tests/fuzz/corpus-fast-run
