// A one-line progress bar on stderr for long bulk commands, drawn only when stderr is a terminal
// (so logs and pipes get just the final summary). Redraws at most ten times a second.
// Not thread-safe: one thread advances it.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace keyline::cli {

class Progress {
 public:
  // Draws on stderr when it is a terminal.
  static Progress OnStderr(std::string label, int64_t total);

  // `total` 0 means unknown: a running count is shown instead of a bar.
  Progress(std::ostream& out, bool enabled, std::string label, int64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool enabled() const { return enabled_; }
  int64_t done() const { return done_; }

  void Advance(int64_t count);
  // Erases the bar (idempotent); the caller prints its summary afterwards.
  void Finish();

 private:
  void Draw();

  std::ostream* out_;
  bool enabled_;
  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace keyline::cli
