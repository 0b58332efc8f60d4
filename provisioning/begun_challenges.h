// Challenges this server just handed out, with the device and manufacturer BeginEnrollment read
// alongside, kept for the CompleteEnrollment that follows a few milliseconds later.
//
// Without it, CompleteEnrollment read the challenge, device and manufacturer back from
// PostgreSQL: a round trip and about 5% of keyline-server's CPU per enrollment in bench/enroll.
// What CompleteEnrollment checks from the snapshot is either fixed once the challenge exists
// (its nonce, device, purpose, requester and expiry; the device's attestation key) or checked
// again by the issuance writer under the device's lock before anything is stored (challenge
// unused and unexpired, device state and owner, manufacturer not revoked: see
// store/issuance_decisions.cc). A snapshot is taken out on first use, so a retry or a replay of
// the same challenge reads the database, as does a CompleteEnrollment that reaches another
// replica or comes after a restart.
//
// Thread safety: all methods may be called from many threads.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string_view>

#include "common/fifo_map.h"
#include "store/enrollment_repository.h"

namespace keyline::provisioning {

class BegunChallenges {
 public:
  // Keeps at most `capacity` snapshots (at least one); beyond that the oldest is dropped, and its
  // CompleteEnrollment reads the database instead.
  explicit BegunChallenges(size_t capacity) : by_id_(capacity) {}

  void Put(store::ChallengeWithDevice snapshot);
  // The snapshot of challenge `id`, removed; nullopt if there is none (any more).
  std::optional<store::ChallengeWithDevice> Take(std::string_view id);

  size_t size() const;

 private:
  mutable std::mutex mutex_;
  FifoMap<store::ChallengeWithDevice> by_id_;  // guarded by mutex_
};

}  // namespace keyline::provisioning
