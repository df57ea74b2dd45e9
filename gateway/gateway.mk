# gateway/: wb-gateway (libwebsockets + nats.c on one libuv loop) and wb-decode (protobuf op -> JSON line).
# -rdynamic: gw_watchdog's stack dump of a stalled loop names our own functions too.
# $(LIBS_MALLOC): jemalloc (Makefile; why: docs/design.md section 6).
GW_SRCS := $(filter-out %_test.c %_fuzz.c gateway/wb_decode.c,$(wildcard gateway/*.c))
GW_OBJS := $(GW_SRCS:%.c=$(BUILD)/%.o)
PROGRAMS += $(BUILD)/wb-gateway $(BUILD)/wb-decode

$(BUILD)/wb-gateway: $(GW_OBJS) $(COMMON_LIB)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LIBS_LWS) $(LIBS_UV) $(LIBS_CRYPTO) $(COMMON_LIBS) -lm $(LIBS_MALLOC)

$(BUILD)/wb-decode: $(BUILD)/gateway/wb_decode.o $(COMMON_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) $(LIBS_PB) -lm

GW_TESTS := $(patsubst gateway/%_test.c,$(BUILD)/tests/gateway_%_test,$(wildcard gateway/*_test.c))
TEST_BINS += $(GW_TESTS)
$(BUILD)/tests/gateway_%_test: $(BUILD)/gateway/%_test.o $(BUILD)/gateway/gw_buf.o \
		$(BUILD)/gateway/gw_sendq.o $(BUILD)/gateway/gw_snap.o $(BUILD)/gateway/gw_view.o $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_LWS) $(LIBS_CRYPTO) $(COMMON_LIBS) -lcmocka -lm
