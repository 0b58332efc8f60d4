// Listening TCP sockets for the HTTP server (internal to http/).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace keyline::http::internal {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

// A numeric IPv4 or IPv6 address ("0.0.0.0", "::1") with `port`. InvalidArgument naming
// bind_address otherwise (host names are not resolved).
[[nodiscard]] absl::StatusOr<SocketAddress> ParseBindAddress(std::string_view address,
                                                             uint16_t port);

// A non-blocking, close-on-exec socket bound to `address` and listening, with SO_REUSEADDR and,
// if asked, SO_REUSEPORT. IPV6_V6ONLY is left at the system's default (Linux: off, so "::" also
// accepts IPv4 clients, seen as ::ffff:a.b.c.d). Unavailable when the socket cannot be bound.
[[nodiscard]] absl::StatusOr<UniqueFd> Listen(const SocketAddress& address, bool reuse_port,
                                              int backlog);

// The local port `fd` is bound to.
[[nodiscard]] absl::StatusOr<uint16_t> BoundPort(int fd);

}  // namespace keyline::http::internal
