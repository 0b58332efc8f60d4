#include "provisioning/challenge_allowance.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::provisioning {
namespace {

// The table is cleaned of whole allowances when it has doubled since the last clean-up, and not
// below this size: amortized constant work per Take, whatever the fleet's size.
constexpr size_t kFirstCleanUpSize = 1024;

}  // namespace

ChallengeAllowance::ChallengeAllowance(ChallengeAllowanceSettings settings)
    : settings_(settings),
      window_(settings.refill * settings.per_device),
      next_clean_up_size_(kFirstCleanUpSize) {}

std::string ChallengeAllowance::Key(std::string_view device_serial, std::string_view requester) {
  std::string key(requester);
  key.push_back('\0');  // in neither (serials are printable): ("ab", "c") is not ("a", "bc")
  key.append(device_serial);
  return key;
}

absl::Time ChallengeAllowance::WholeAt(absl::Time& stored, absl::Time now) const {
  // Never further ahead than a spent allowance. Take keeps to that; only a clock stepped back
  // breaks it, and should leave a device waiting one refill, not the length of the step.
  stored = std::min(stored, now + window_);
  return std::max(stored, now);
}

absl::Status ChallengeAllowance::Take(std::string_view device_serial, std::string_view requester,
                                      absl::Time now) {
  const std::string key = Key(device_serial, requester);
  std::lock_guard lock(mutex_);
  // One look-up: a new entry starts whole (at `now`), and always has a challenge to give
  // (per_device >= 1), so a refusal never leaves one behind.
  auto [entry, inserted] = whole_at_.try_emplace(key, now);
  // One more challenge moves WholeAt a refill further; it may not pass the window.
  const absl::Time whole_at = WholeAt(entry->second, now) + settings_.refill;
  const absl::Duration wait = whole_at - window_ - now;
  if (wait > absl::ZeroDuration()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "device_serial: device ", AsAbsl(device_serial), " was handed its ", settings_.per_device,
        " challenges (one more every ", absl::FormatDuration(settings_.refill), "); retry in ",
        static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(wait))), " s"));
  }
  entry->second = whole_at;
  if (inserted && whole_at_.size() >= next_clean_up_size_) {
    DropWhole(now);
    next_clean_up_size_ = std::max(kFirstCleanUpSize, 2 * whole_at_.size());
  }
  return absl::OkStatus();
}

void ChallengeAllowance::GiveBack(std::string_view device_serial, std::string_view requester,
                                  absl::Time now) {
  const std::string key = Key(device_serial, requester);
  std::lock_guard lock(mutex_);
  const auto found = whole_at_.find(key);
  if (found == whole_at_.end()) return;  // whole already, and forgotten
  found->second -= settings_.refill;
  if (found->second <= now) whole_at_.erase(found);
}

void ChallengeAllowance::DropWhole(absl::Time now) {
  absl::erase_if(whole_at_, [now](const auto& entry) { return entry.second <= now; });
}

size_t ChallengeAllowance::tracked() const {
  std::lock_guard lock(mutex_);
  return whole_at_.size();
}

}  // namespace keyline::provisioning
