// Running the OpenSSL CLI and python3 from unit tests (interop checks), and a scratch directory
// for the files they read. Arguments go as a vector: no shell, no quoting.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace keyline::ocsp::testing {

struct CommandResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string output;  // stdout and stderr, interleaved
};

// Runs `argv` (looked up on PATH) to completion.
[[nodiscard]] absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv);

// A fresh directory under $TMPDIR (or /tmp), removed with its files on destruction.
class TempDirectory {
 public:
  TempDirectory();
  ~TempDirectory();
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;

  const std::string& path() const { return path_; }
  // Writes `contents` to path()/name and returns the full path.
  std::string Write(std::string_view name, std::string_view contents) const;
  std::string Read(std::string_view name) const;

 private:
  std::string path_;
};

}  // namespace keyline::ocsp::testing
