/* alloc.c - jemalloc's options for the docbus binary (read by jemalloc at start-up when
 * the binary links it, see ALLOC in the Makefile; an unused string otherwise).
 *
 * thp:always - transparent huge pages for the heap (this kernel gives them only on
 * madvise): page faults (the audit's tables, librdkafka's receive buffers) were ~10 % of
 * the audit's samples. 13 alternating pairs on one broker: the audit 6-22 % faster in 9,
 * within 5 % in the rest (median -9 %); aggregate and import unchanged; peak memory
 * +10-30 %.
 * MALLOC_CONF in the environment still overrides it (MALLOC_CONF=thp:default). */
const char *malloc_conf = "thp:always";
