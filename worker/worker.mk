# worker/: the persistence worker (JetStream -> PostgreSQL, snapshots).
# build/wb-worker from worker/*.c; unit tests worker/*_test.c (cmocka), one
# binary each, linked with every worker object except main.
WORKER_SRCS := $(filter-out %_test.c,$(wildcard worker/*.c))
WORKER_OBJS := $(WORKER_SRCS:%.c=$(BUILD)/%.o)
WORKER_LIB_OBJS := $(filter-out $(BUILD)/worker/wk_main.o,$(WORKER_OBJS))

PROGRAMS += $(BUILD)/wb-worker
$(BUILD)/wb-worker: $(WORKER_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_PQ) $(COMMON_LIBS) -lm

WORKER_TESTS := $(patsubst worker/%_test.c,$(BUILD)/tests/worker_%_test,$(wildcard worker/*_test.c))
TEST_BINS += $(WORKER_TESTS)
$(BUILD)/tests/worker_%_test: $(BUILD)/worker/%_test.o $(WORKER_LIB_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_PQ) $(COMMON_LIBS) -lcmocka -lm
