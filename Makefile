# Whiteboard: top-level build. Plain make, -MMD dependencies, one fragment per
# component (common/common.mk, gateway/gateway.mk, worker/worker.mk, bench/bench.mk).
#
#   make            build the C programs into build/
#   make SAN=1      the same with AddressSanitizer + UBSan into build/san/
#   make deps       install everything the project needs (idempotent)
#   make run        run the whole native stack in the foreground
#   make test       every test layer
#   make clean

SHELL := /bin/bash
ROOT  := $(abspath .)
SAN   ?= 0
ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS :=
endif
GEN   := build/gen

CC      ?= cc
PKGS    := libwebsockets libnats jansson libprotobuf-c libpq
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -pthread -MMD -MP \
           -I$(ROOT)/common -I$(GEN) $(SANFLAGS)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I/usr/include/postgresql
# Link flags per library: each program links only the ones it uses (see the fragments).
LIBS_LWS   := $(shell pkg-config --libs libwebsockets 2>/dev/null)
LIBS_NATS  := $(shell pkg-config --libs libnats 2>/dev/null)
LIBS_JSON  := $(shell pkg-config --libs jansson 2>/dev/null)
LIBS_PB    := $(shell pkg-config --libs libprotobuf-c 2>/dev/null)
LIBS_PQ    := $(shell pkg-config --libs libpq 2>/dev/null)
LIBS_UV    := $(or $(shell pkg-config --libs libuv 2>/dev/null),-luv)
LIBS_CRYPTO := $(or $(shell pkg-config --libs libcrypto 2>/dev/null),-lcrypto)
# The gateway's allocator (docs/design.md): jemalloc, except under the
# sanitizers, which bring their own.
ifeq ($(SAN),1)
LIBS_MALLOC :=
else
LIBS_MALLOC := $(or $(shell pkg-config --libs jemalloc 2>/dev/null),-ljemalloc)
endif
LDFLAGS += -pthread $(SANFLAGS)
# Generated protobuf-c code is not ours: compile it without -Werror.
GEN_CFLAGS := -std=gnu11 -O2 -g -MMD -MP -I$(GEN) $(SANFLAGS) $(shell pkg-config --cflags libprotobuf-c 2>/dev/null)

PROTO := proto/whiteboard.proto
PB_C  := $(GEN)/whiteboard.pb-c.c
PB_H  := $(GEN)/whiteboard.pb-c.h
PB_PY := $(GEN)/py/whiteboard_pb2.py

PROGRAMS :=
TEST_BINS :=

.SECONDARY:
.PHONY: all deps run test test-unit test-e2e fuzz clean format bench bench-engine
all: programs

$(PB_C) $(PB_H): $(PROTO)
	@mkdir -p $(GEN)
	protoc-c --proto_path=proto --c_out=$(GEN) $(PROTO)

$(PB_PY): $(PROTO)
	@mkdir -p $(GEN)/py
	protoc --proto_path=proto --python_out=$(GEN)/py $(PROTO)

$(BUILD)/gen/whiteboard.pb-c.o: $(PB_C)
	@mkdir -p $(dir $@)
	$(CC) $(GEN_CFLAGS) -c $< -o $@

include common/common.mk
-include gateway/gateway.mk
-include worker/worker.mk
-include bench/bench.mk

programs: $(PROGRAMS) $(PB_PY)

# Project C sources depend on the generated header.
$(BUILD)/%.o: %.c $(PB_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

deps:
	@bash scripts/deps.sh

run: deps
	@bash scripts/run.sh

test: deps
	@bash scripts/test.sh

test-unit: $(TEST_BINS)
	@set -e; for t in $(TEST_BINS); do echo "== $$t"; $$t; done

fuzz:
	@bash scripts/fuzz.sh long

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build client/dist

-include $(shell find build -name '*.d' 2>/dev/null)

# Live failover demo on a running `make run` stack (docs/operations.md).
.PHONY: drill takedown bringback check-docker docker-up docker-down
drill:
	.venv/bin/python scripts/drill.py --mode $(or $(MODE),kill) --gw $(or $(GW),gw-1)
takedown:
	@bash scripts/takedown.sh GW=$(or $(GW),gw-1) MODE=$(or $(MODE),term)
bringback:
	@bash scripts/bringback.sh GW=$(or $(GW),gw-1)
check-docker:
	.venv/bin/pytest -q tests/test_docker.py

# The compose stack (README "Running with Docker"): build, start, wait for HTTPS /healthz.
docker-up:
	@NATS_CLUSTER=$(NATS_CLUSTER) bash scripts/docker/up.sh
docker-down:
	@WIPE=$(WIPE) bash scripts/docker/down.sh

bench: programs
	@bash bench/run.sh
	@bash bench/engine.sh

# Only the gateway engine targets (issue #10): bench/engine.sh.
bench-engine: programs
	@bash bench/engine.sh

# The React client, served by the gateways from client/dist.
.PHONY: client
client:
	cd client && npm ci --no-audit --no-fund --loglevel=error && npm run build
