#include "ocsp/fresh_signature_budget.h"

#include <algorithm>

namespace keyline::ocsp {

FreshSignatureBudget::FreshSignatureBudget(double per_second)
    : per_second_(per_second), tokens_(per_second) {}

bool FreshSignatureBudget::TryTake(absl::Time now) {
  if (per_second_ <= 0) return true;
  std::lock_guard lock(mutex_);
  if (last_refill_ == absl::InfinitePast()) last_refill_ = now;
  if (now > last_refill_) {
    tokens_ =
        std::min(per_second_, tokens_ + absl::ToDoubleSeconds(now - last_refill_) * per_second_);
    last_refill_ = now;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace keyline::ocsp
