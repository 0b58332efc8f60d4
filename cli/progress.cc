#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace keyline::cli {
namespace {

constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

}  // namespace

Progress Progress::OnStderr(std::string label, int64_t total) {
  return Progress(std::cerr, isatty(STDERR_FILENO) == 1, std::move(label), total);
}

Progress::Progress(std::ostream& out, bool enabled, std::string label, int64_t total)
    : out_(&out), enabled_(enabled), label_(std::move(label)), total_(total) {}

Progress::~Progress() { Finish(); }

void Progress::Advance(int64_t count) {
  done_ += count;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < kRedrawInterval && done_ != total_) return;
  last_draw_ = now;
  Draw();
}

void Progress::Draw() {
  // absl::StrCat rather than std::string operator+: g++ 12 at -O3 reports a false
  // -Wrestrict inside the latter.
  std::string line = absl::StrCat("\r", label_, " ");
  if (total_ > 0) {
    const int64_t shown = std::min(done_, total_);
    const auto filled = static_cast<int>(shown * kBarWidth / total_);
    absl::StrAppend(&line, "[", std::string(static_cast<size_t>(filled), '#'),
                    std::string(static_cast<size_t>(kBarWidth - filled), ' '), "] ", shown, "/",
                    total_, " (", shown * 100 / total_, "%)");
  } else {
    absl::StrAppend(&line, done_);
  }
  *out_ << line << "\033[K" << std::flush;
  drawn_ = true;
}

void Progress::Finish() {
  if (!enabled_ || !drawn_ || out_ == nullptr) return;
  *out_ << "\r\033[K" << std::flush;
  drawn_ = false;
}

}  // namespace keyline::cli
