# bench/: wb-bench, the load generator (see docs/performance.md), and its
# cmocka unit test. Included by the top Makefile.
BENCH_LIB_SRCS := bench/bench_hist.c bench/bench_parse.c bench/bench_track.c
# wb-bench itself: main + one module per concern (bench/bench.h).
BENCH_SRCS := bench/wb_bench.c bench/bench_config.c bench/bench_conn.c bench/bench_phase.c \
              bench/bench_sample.c bench/bench_report.c
BENCH_LIB_OBJS := $(BENCH_LIB_SRCS:%.c=$(BUILD)/%.o)

PROGRAMS += $(BUILD)/wb-bench
$(BUILD)/wb-bench: $(BENCH_SRCS:%.c=$(BUILD)/%.o) $(BENCH_LIB_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_LWS) $(LIBS_JSON) -lm

TEST_BINS += $(BUILD)/tests/bench_test
$(BUILD)/tests/bench_test: $(BUILD)/bench/bench_test.o $(BENCH_LIB_OBJS) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) -lcmocka -lm
