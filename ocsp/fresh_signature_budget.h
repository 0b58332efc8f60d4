// How many responses the OCSP responder may sign a second because a request asked for an answer of
// its own (a nonce, or several CertIDs), across every HTTP thread.
//
// Such answers cannot come from the pre-signed cache: each costs an HSM signature on the event
// loop that received it. Unbounded, one client sending nonces keeps the loops signing (cached
// answers and /healthz wait behind it) and the HSM's sessions busy (enrollment waits too). With a
// budget the cost of a flood is bounded and the responder degrades the way RFC 9654 and the
// lightweight profile (RFC 9919) allow: a nonce over budget is ignored and the pre-signed answer
// served.
//
// A token bucket: `per_second` signatures a second, at most one second's worth saved up. Time is
// the caller's `now` (the responder's clock), so tests control it. Thread-safe.
#pragma once

#include <mutex>

#include "absl/time/time.h"

namespace keyline::ocsp {

class FreshSignatureBudget {
 public:
  // per_second 0: no limit (every request is signed fresh).
  explicit FreshSignatureBudget(double per_second);

  // Takes one signature at `now`; false when the budget is spent. Clocks of different threads may
  // disagree by a little: a `now` slightly earlier than the last one seen refills nothing. A clock
  // stepped back by more than a second refills from its new time on.
  bool TryTake(absl::Time now);

  // False for a budget of 0: TryTake always succeeds.
  bool limited() const { return per_second_ > 0; }

 private:
  const double per_second_;
  std::mutex mutex_;
  double tokens_;                                  // guarded by mutex_
  absl::Time last_refill_ = absl::InfinitePast();  // guarded by mutex_
};

}  // namespace keyline::ocsp
