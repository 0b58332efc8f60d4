// How many challenges BeginEnrollment hands one device: at most `per_device` at once, and one more
// every `refill` after that.
//
// A device's attestation certificate is not secret (the factory line, gateways and the device
// itself all show it), and BeginEnrollment on first contact needs no client certificate. Without a
// cap, whoever holds that certificate could make this server store challenge rows as fast as it
// answers, each kept until the sweeper removes it an hour past expiry. A device needs one
// challenge per enrollment or renewal and a few more for retries, so the cap costs it nothing.
//
// Only challenges actually handed out count (Record, after the device, its claim and its chain
// were checked): requests that name a device's serial with somebody else's chain, or an unknown
// serial, are refused by those checks and cannot use up a real device's allowance. Allows() is
// asked before the database: a device over its allowance costs no look-up. Requests in flight
// between Allows() and Record() may take a device a little past its cap; that overshoot is bounded
// by the requests a caller can have in flight.
//
// The allowance is per replica (in memory, gone on restart): R replicas allow R times as much.
//
// A generic cell rate algorithm: each device keeps only the time at which its allowance is whole
// again, so a device that has used none of it takes no memory. Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace keyline::provisioning {

struct ChallengeAllowanceSettings {
  int per_device = 10;                        // challenges a device may hold at once, >= 1
  absl::Duration refill = absl::Seconds(30);  // one more after every `refill`, > 0
};

class ChallengeAllowance {
 public:
  explicit ChallengeAllowance(ChallengeAllowanceSettings settings);

  // OK when device `serial` may be handed one more challenge at `now`; otherwise
  // RESOURCE_EXHAUSTED naming device_serial and when to retry. Uses up nothing.
  absl::Status Allows(std::string_view serial, absl::Time now);

  // Counts one challenge handed to `serial` at `now`.
  void Record(std::string_view serial, absl::Time now);

  // Devices in the table: those with an allowance not whole at the last clean-up, and any that
  // were handed a challenge since (for tests).
  size_t tracked() const;

 private:
  // When `serial`'s allowance is whole again, `now` if it is whole.
  absl::Time WholeAt(std::string_view serial, absl::Time now);  // needs mutex_
  void DropWhole(absl::Time now);                               // needs mutex_

  const ChallengeAllowanceSettings settings_;
  const absl::Duration window_;  // per_device * refill: how far ahead WholeAt may lie
  mutable std::mutex mutex_;
  absl::flat_hash_map<std::string, absl::Time> whole_at_;  // guarded by mutex_
  size_t next_clean_up_size_;                              // guarded by mutex_
};

}  // namespace keyline::provisioning
