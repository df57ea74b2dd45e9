# common/: the small library both services link (logging, config, validation,
# the JSON<->protobuf codec, board-state folding, rate limiter, buffers).
COMMON_SRCS := $(filter-out %_test.c %_fuzz.c,$(wildcard common/*.c))
COMMON_OBJS := $(COMMON_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/whiteboard.pb-c.o
COMMON_LIB  := $(BUILD)/libwbcommon.a
# What libwbcommon.a itself needs (the codec: jansson, protobuf-c; wb_nats: nats.c).
COMMON_LIBS := $(LIBS_NATS) $(LIBS_JSON) $(LIBS_PB)

$(COMMON_LIB): $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# Unit tests (cmocka): common/*_test.c, one binary each.
COMMON_TESTS := $(patsubst common/%_test.c,$(BUILD)/tests/common_%_test,$(wildcard common/*_test.c))
TEST_BINS += $(COMMON_TESTS)
$(BUILD)/tests/common_%_test: $(BUILD)/common/%_test.o $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(COMMON_LIBS) -lcmocka -lm
# The board-state vectors shared by every test layer (docs/protocol.md §4).
$(BUILD)/common/wb_fold_test.o: CFLAGS += -DWB_VECTORS_DIR='"$(ROOT)/tests/vectors"'
