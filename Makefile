# docbus - build, deps, test, demo, bench.  `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := all

BUILD   ?= build
CC      ?= gcc
PKGS    := rdkafka avro-c libcrypto jansson yajl libcmark
CFLAGS  ?= -O2 -g
CFLAGS  += -DAVRO_C_VERSION='"$(shell pkg-config --modversion avro-c 2>/dev/null)"'
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes -Ilib -Icli -Iproducers -I$(BUILD)/gen
LDLIBS  += -lm

# pkg-config is asked only once deps are present (make deps runs first).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# The docbus binary allocates through jemalloc (the whole process: librdkafka, jansson
# and Avro-C too): glibc's malloc and free were a fifth of the import's CPU. ALLOC= builds
# with glibc's allocator; the sanitizer build never links it (ASan brings its own).
ALLOC ?= jemalloc

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Sanitizer build: make SAN=1 (objects go to build-san/).
ifeq ($(SAN),1)
BUILD   := build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
ALLOC   :=
endif
ALLOC_LIBS = $(if $(ALLOC),$(shell pkg-config --libs $(ALLOC) 2>/dev/null))
# Names the allocator the binary was linked with: another ALLOC relinks it.
ALLOC_STAMP = $(BUILD)/.alloc-$(or $(ALLOC),glibc)

LIB_SRC  := $(sort $(wildcard lib/*.c))
CMD_SRC  := $(sort $(wildcard cli/*.c producers/*.c consumers/*.c))
SCHEMAS  := $(sort $(wildcard schemas/*.avsc schemas/*.json schemas/history/*.avsc))
GEN_SRC  := $(BUILD)/gen/schemas_embedded.c
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/schemas_embedded.o
CMD_OBJ  := $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
IT_SRC   := $(sort $(wildcard tests/it/*.c))
IT_BIN   := $(IT_SRC:tests/it/%.c=$(BUILD)/tests/it/%)
DEPS     := $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(UNIT_BIN:=.d) $(IT_BIN:=.d)

.PHONY: all deps test test-unit test-san test-faults demo bench fuzz clean help broker-start broker-stop

# deps runs first, alone: under make -j the compiler must not start before the headers exist.
all: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/docbus

help:
	@echo "make            build build/docbus (installs missing Debian packages first)"
	@echo "make deps       install missing Debian packages (no-op when all present)"
	@echo "make test       build, start the local Kafka broker, run every test, stop it"
	@echo "make test T=x   run only tests whose name contains x"
	@echo "make test-san   unit tests under AddressSanitizer + UBSan"
	@echo "make demo       the 2018-Q1 pipeline end to end, prints the report"
	@echo "make bench      throughput against kcat and openssl speed"
	@echo "make fuzz       libFuzzer on the envelope and import-line decoders (FUZZ_SECONDS=600 each)"
	@echo "V=1             show the commands"

deps:
	$(Q)./deploy/deps.sh

$(BUILD)/docbus: $(LIB_OBJ) $(CMD_OBJ) Makefile $(ALLOC_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALLOC_LIBS) $(PKG_LIBS) $(LDLIBS)

$(ALLOC_STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/.alloc-*
	@touch $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

# Schemas are compiled into the binary: no .avsc files are needed at run time.
$(GEN_SRC): $(SCHEMAS) deploy/embed.sh
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)./deploy/embed.sh $@ $(SCHEMAS)

$(BUILD)/gen/schemas_embedded.o: $(GEN_SRC)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(PKG_LIBS) -lcmocka $(LDLIBS)

$(BUILD)/tests/it/%: tests/it/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(PKG_LIBS) $(LDLIBS)

unit: $(UNIT_BIN) $(IT_BIN)

# The test builds use every core unless make was given -j itself (saves ~50 s on 2 cores).
TEST_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2))

test: deps
	$(Q)$(MAKE) --no-print-directory $(TEST_JOBS) $(BUILD)/docbus unit
	$(Q)$(MAKE) --no-print-directory $(TEST_JOBS) SAN=1 build-san/docbus unit
	$(Q)./tests/run.sh $(if $(T),--only '$(T)')

test-unit: deps
	$(Q)$(MAKE) --no-print-directory $(TEST_JOBS) $(BUILD)/docbus unit
	$(Q)./tests/run.sh --unit-only $(if $(T),--only '$(T)')

test-san: deps
	$(Q)$(MAKE) --no-print-directory $(TEST_JOBS) SAN=1 build-san/docbus unit
	$(Q)BUILD=build-san ./tests/run.sh --unit-only $(if $(T),--only '$(T)')

test-faults: all
	$(Q)./tests/run.sh --faults $(if $(T),--only '$(T)')

demo: all
	$(Q)./deploy/demo.sh

BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

$(BUILD)/bench/%: tests/bench/%.c $(LIB_OBJ) $(ALLOC_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(ALLOC_LIBS) $(PKG_LIBS) $(LDLIBS)

bench: all
	$(Q)$(MAKE) --no-print-directory $(BENCH_BIN)
	$(Q)BUILD=$(BUILD) ./tests/bench/bench.sh $(BENCH_ARGS)

fuzz: deps
	$(Q)./tests/fuzz/run.sh $(or $(FUZZ_SECONDS),600)

clean:
	rm -rf build build-san

-include $(DEPS)
