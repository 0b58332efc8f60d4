#include "provisioning/challenge_allowance.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::provisioning {
namespace {

// The table is cleaned of whole allowances when it has doubled since the last clean-up, and not
// below this size: amortized constant work per Record, whatever the fleet's size.
constexpr size_t kFirstCleanUpSize = 1024;

}  // namespace

ChallengeAllowance::ChallengeAllowance(ChallengeAllowanceSettings settings)
    : settings_(settings),
      window_(settings.refill * settings.per_device),
      next_clean_up_size_(kFirstCleanUpSize) {}

absl::Time ChallengeAllowance::WholeAt(std::string_view serial, absl::Time now) {
  const auto found = whole_at_.find(AsAbsl(serial));
  if (found == whole_at_.end()) return now;
  // Never further ahead than a spent allowance. Record keeps to that; only a clock stepped back
  // breaks it, and should leave a device waiting one refill, not the length of the step.
  found->second = std::min(found->second, now + window_);
  return std::max(found->second, now);
}

absl::Status ChallengeAllowance::Allows(std::string_view serial, absl::Time now) {
  std::lock_guard lock(mutex_);
  // One more challenge moves WholeAt a refill further; it may not pass the window.
  const absl::Duration wait = WholeAt(serial, now) + settings_.refill - window_ - now;
  if (wait <= absl::ZeroDuration()) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "device_serial: device ", AsAbsl(serial), " was handed its ", settings_.per_device,
      " challenges (one more every ", absl::FormatDuration(settings_.refill), "); retry in ",
      static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(wait))), " s"));
}

void ChallengeAllowance::Record(std::string_view serial, absl::Time now) {
  std::lock_guard lock(mutex_);
  // Requests allowed together may record past the cap: that overshoot is forgiven, so the device
  // waits one refill for its next challenge, as one exactly at its cap does.
  const absl::Time whole_at = std::min(WholeAt(serial, now) + settings_.refill, now + window_);
  auto [entry, inserted] = whole_at_.try_emplace(AsAbsl(serial), whole_at);
  if (!inserted) {
    entry->second = whole_at;
    return;
  }
  if (whole_at_.size() >= next_clean_up_size_) {
    DropWhole(now);
    next_clean_up_size_ = std::max(kFirstCleanUpSize, 2 * whole_at_.size());
  }
}

void ChallengeAllowance::DropWhole(absl::Time now) {
  absl::erase_if(whole_at_, [now](const auto& entry) { return entry.second <= now; });
}

size_t ChallengeAllowance::tracked() const {
  std::lock_guard lock(mutex_);
  return whole_at_.size();
}

}  // namespace keyline::provisioning
