// How many challenges BeginEnrollment hands one device: at most `per_device` at once, and one more
// every `refill` after that, for each requester of it.
//
// A device's attestation certificate is not secret (the factory line, gateways and the device
// itself all show it), and BeginEnrollment on first contact needs no client certificate. Without a
// cap, whoever holds that certificate could make this server store challenge rows as fast as it
// answers, each kept until the sweeper removes it an hour past expiry. A device needs one
// challenge per enrollment or renewal and a few more for retries, so the cap costs it nothing.
//
// A request takes its challenge from the allowance before the database look-up (Take), so
// requests in flight together cannot pass the cap, and a device over it costs no look-up. A
// request that hands out no challenge (an unknown serial, a chain that is not the device's, a
// device that may not enroll) gives it back (GiveBack) once answered: such requests hold a part of
// a device's allowance only while they wait for the database.
//
// Requesters count apart: anonymous callers on first contact ("device"), each gateway relaying
// for the device, and the device itself renewing over mTLS (its certificate's URI). Whoever holds a
// device's public attestation certificate can compete for its first-contact allowance, but not
// for its renewals or its gateway's relays. That contention is the price of bounded storage; the
// device retries after the refill.
//
// The allowance is per replica (in memory, gone on restart): R replicas allow R times as much.
//
// A generic cell rate algorithm: each (device, requester) keeps only the time at which its
// allowance is whole again. Entries whose allowance is whole are dropped when the table has
// doubled since the last clean-up, so the table holds at most about twice the devices with an
// allowance in use (plus requests in flight); the clean-up scans the table under the lock, once
// per doubling. Thread-safe.
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

  // Takes one challenge of `device_serial`'s allowance for `requester` at `now`; when none is
  // left, RESOURCE_EXHAUSTED naming device_serial and when to retry, and nothing is taken.
  absl::Status Take(std::string_view device_serial, std::string_view requester, absl::Time now);

  // Gives back one challenge that Take allowed but that was not handed out.
  void GiveBack(std::string_view device_serial, std::string_view requester, absl::Time now);

  // Entries in the table: allowances in use at the last clean-up, and any taken since (for tests).
  size_t tracked() const;

 private:
  static std::string Key(std::string_view device_serial, std::string_view requester);
  // When the allowance whose entry is `stored` is whole again, `now` if it is whole; clamps
  // `stored` (see the .cc).
  absl::Time WholeAt(absl::Time& stored, absl::Time now) const;  // needs mutex_
  void DropWhole(absl::Time now);                               // needs mutex_

  const ChallengeAllowanceSettings settings_;
  const absl::Duration window_;  // per_device * refill: how far ahead WholeAt may lie
  mutable std::mutex mutex_;
  absl::flat_hash_map<std::string, absl::Time> whole_at_;  // guarded by mutex_
  size_t next_clean_up_size_;                              // guarded by mutex_
};

}  // namespace keyline::provisioning
