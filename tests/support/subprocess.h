// Running programs from tests: keyline-server, keylinectl, openssl, certtool, pkcs11-tool,
// python3. Arguments are passed as a vector (no shell, no quoting bugs).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace keyline::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

using Environment = std::vector<std::pair<std::string, std::string>>;

// Runs to completion, feeding `input` on stdin. DeadlineExceeded (and the child is killed) after
// `timeout`. `environment` adds to (or overrides) this process' environment.
[[nodiscard]] absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                                       const Environment& environment = {},
                                                       absl::Duration timeout = absl::Seconds(120),
                                                       const std::string& input = "");

// A long-running child (a server), stdout and stderr appended to `log_path`. The destructor
// stops it with SIGTERM, then SIGKILL after five seconds.
class ChildProcess {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      const std::vector<std::string>& argv, const std::string& log_path,
      const Environment& environment = {});
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool Running();
  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit code as in ProcessResult.
  int Stop(absl::Duration grace = absl::Seconds(5));

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  int exit_code_ = -1;
  bool reaped_ = false;
};

// A TCP port in [20000, 32000) that nothing listens on right now (ports above 32768 are the
// kernel's ephemeral range, where a client connection may already hold it).
[[nodiscard]] int PickFreePort();

}  // namespace keyline::testing
