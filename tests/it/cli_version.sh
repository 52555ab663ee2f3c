#!/usr/bin/env bash
# cli_version.sh - `docbus version` names the libraries and the allocator the binary runs
# with: jemalloc with transparent huge pages for the release build (cli/alloc.c, ALLOC in
# the Makefile), overridable with MALLOC_CONF; glibc's malloc for the sanitizer build,
# which also exits clean under LeakSanitizer.
. "$(dirname "$0")/lib.sh"
it_init cli_version

"$DOCBUS" version --json > v.json
check_eq "version --json exit code" 0 $?
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["allocator"])' v.json > alloc.txt
check_grep "release build allocator" '^jemalloc [0-9][0-9.]* \(thp always\)$' alloc.txt
MALLOC_CONF=thp:never "$DOCBUS" version > v.txt
check_grep "MALLOC_CONF overrides the built-in options" '^  allocator  jemalloc .*\(thp never\)$' v.txt

san=$ROOT/build-san/docbus
if [ -x "$san" ]; then
    "$san" version > s.txt 2> s.err
    check_eq "sanitizer build version exit code (no leak)" 0 $?
    check_grep "sanitizer build allocator" '^  allocator  glibc malloc$' s.txt
    check_grep "sanitizer build says so" 'AddressSanitizer' s.txt
fi
it_done
