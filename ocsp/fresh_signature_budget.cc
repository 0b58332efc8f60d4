#include "ocsp/fresh_signature_budget.h"

#include <algorithm>

namespace keyline::ocsp {
namespace {

// Threads' clocks disagree by far less than this; a clock going back by more was stepped.
constexpr absl::Duration kClockStep = absl::Seconds(1);

}  // namespace

FreshSignatureBudget::FreshSignatureBudget(double per_second)
    : per_second_(per_second), tokens_(per_second) {}

bool FreshSignatureBudget::TryTake(absl::Time now) {
  if (!limited()) return true;
  std::lock_guard lock(mutex_);
  if (last_refill_ == absl::InfinitePast()) last_refill_ = now;
  if (now > last_refill_) {
    tokens_ =
        std::min(per_second_, tokens_ + absl::ToDoubleSeconds(now - last_refill_) * per_second_);
    last_refill_ = now;
  } else if (last_refill_ - now > kClockStep) {
    // The clock was stepped back (NTP, a restored VM): refill from its new time on, rather than
    // not at all until it passes the old time again.
    last_refill_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace keyline::ocsp
