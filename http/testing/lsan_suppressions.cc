// LeakSanitizer suppressions for http_test, built into the test binary (LSan asks the program for
// them through __lsan_default_suppressions). Both are h2o 2.2.5 behaviour, not leaks of ours:
// - h2o_mem_alloc_recycle: h2o keeps thread-local caches of freed memory-pool chunks and socket
//   buffers (at most 16 of each per thread, by h2o's settings). They die with each event-loop
//   thread, which the tests start and stop many times.
// - h2o_multithread_create_queue: h2o_context_dispose destroys the context's message queue but
//   does not free its 88-byte struct (upstream fixed it after 2.2.5). One per loop per server.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:h2o_mem_alloc_recycle\n"
         "leak:h2o_multithread_create_queue\n";
}
