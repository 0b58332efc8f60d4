// A deliberately dumb HTTP/1.1 client over a plain socket, for tests that need what curl will
// not do: pipelining, half-sent requests, garbage, connections that never read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace keyline::http::testing {

struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // The first value of `name` (lower case), or "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

class RawHttpClient {
 public:
  // Connects to 127.0.0.1:port.
  static absl::StatusOr<RawHttpClient> Connect(uint16_t port);

  RawHttpClient(RawHttpClient&& other) noexcept;
  RawHttpClient& operator=(RawHttpClient&& other) noexcept;
  ~RawHttpClient();

  absl::Status Send(std::string_view bytes);

  // Reads one response: Content-Length or chunked bodies, none for HEAD/204/304, otherwise up
  // to EOF. DeadlineExceeded when it does not arrive within `timeout`.
  absl::StatusOr<RawResponse> ReadResponse(absl::Duration timeout, bool head_request = false);

  // Whether the server closes the connection (EOF or reset) within `timeout`; bytes that
  // arrive first are discarded.
  bool WaitForClose(absl::Duration timeout);

  // Closes with a TCP reset instead of a FIN.
  void Reset();

  int fd() const { return fd_; }

 private:
  explicit RawHttpClient(int fd) : fd_(fd) {}
  // Appends what arrives before `deadline` to buffer_; false on EOF, error or timeout.
  bool Fill(absl::Time deadline);

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace keyline::http::testing
