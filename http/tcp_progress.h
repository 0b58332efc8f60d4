// TCP connection helpers (internal to http/): how far a peer has read, and aborting a connection.
#pragma once

#include <cstdint>
#include <optional>

namespace keyline::http::internal {

// tcpi_bytes_acked of TCP_INFO (Linux 4.1+); nullopt when the socket cannot say.
std::optional<uint64_t> BytesAcked(int fd);

// Makes every pending and future read and write on `fd` fail, so that h2o closes the connection
// through its usual error path; the close then resets it (SO_LINGER 0) instead of leaving the
// kernel to deliver what is still queued to a peer that is not reading it.
void AbortConnection(int fd);

}  // namespace keyline::http::internal
