// A fixed pool of logged-in sessions on one token, shared by every thread that talks to it.
//
// Run(operation, fn) lends a session to fn. When fn reports a recoverable CKR_* (IsRecoverable:
// the session was closed, the token logged out, the device went away, a handle went stale),
// the pool recovers once and runs fn again: it waits until every session is back, closes what
// is left of them, opens new ones, logs in again and bumps its generation, so that callers that
// cache object handles (Pkcs11SigningKey) look them up again. One thread recovers; the others
// wait for it and then retry.
//
// Caveats:
// - PKCS#11 login state belongs to the application, not the session: if the process is already
//   logged in to the token (another pool on it), C_Login answers CKR_USER_ALREADY_LOGGED_IN
//   without checking the PIN, so a wrong PIN is only caught by the first pool.
// - Modules reuse session handle numbers. When recovering, a handle the module still accepts for
//   our slot is closed; if another pool on the same token got that number after ours was closed
//   behind our back, its session is closed too (it then recovers in turn). Handles the module no
//   longer accepts are forgotten without closing.
//
// Thread safety: Run may be called from many threads; fn must not call Run (it would wait for
// its own session during a recovery).
#pragma once

#include <p11-kit/pkcs11.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hsm/pkcs11_module.h"
#include "hsm/pkcs11_session.h"
#include "hsm/pkcs11_status.h"

namespace keyline::hsm {

class SessionPool {
 public:
  // Opens `size` read-write sessions on `slot` (0: one per hardware thread) and logs the user in.
  // PermissionDenied for a wrong PIN.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<SessionPool>> Open(
      std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot, std::string pin, size_t size);

  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;
  ~SessionPool();

  // One session lent to one caller. `index` (0 .. size()-1) names the session for as long as the
  // pool lives, so a caller may keep per-session state in a vector of size() entries: only the
  // lessee of `index` touches its entry, and the pool's lock orders successive lessees.
  struct Lease {
    size_t index;
    CK_SESSION_HANDLE session;  // CK_INVALID_HANDLE when an earlier recovery failed half-way
    uint64_t generation;
  };

  // Calls fn(const Lease&) -> CK_RV with a logged-in session that no other thread uses meanwhile.
  // The lease's generation changes whenever the sessions were replaced; object handles cached
  // under an older generation must be looked up again.
  // Returns OK for CKR_OK, otherwise Pkcs11Status(rv, operation) of the last attempt, or the
  // status of a failed recovery. Does not allocate on the success path.
  template <typename Fn>
  [[nodiscard]] absl::Status Run(std::string_view operation, Fn&& fn);

  CK_FUNCTION_LIST* functions() const { return functions_; }
  CK_SLOT_ID slot() const { return slot_; }
  size_t size() const { return size_; }

  // How many times the sessions were replaced successfully since Open.
  uint64_t recoveries() const { return recoveries_.load(std::memory_order_relaxed); }

 private:
  SessionPool(std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot, std::string pin, size_t size);

  Lease Acquire();
  void Release(size_t index);

  // Replaces the sessions unless another thread already did since `failed_generation`.
  absl::Status Recover(uint64_t failed_generation);
  // Opens every missing session and logs in. Called with mutex_ held and the pool drained (or not
  // yet shared).
  absl::Status OpenMissingSessionsAndLogIn();

  const std::shared_ptr<Pkcs11Module> module_;
  CK_FUNCTION_LIST* const functions_;
  const CK_SLOT_ID slot_;
  const size_t size_;
  std::string pin_;  // kept to log in again after a recovery; wiped in the destructor

  // std::mutex rather than absl::Mutex: ThreadSanitizer understands it without an instrumented
  // Abseil.
  std::mutex mutex_;
  std::condition_variable session_returned_;  // an idle session may be available
  std::condition_variable state_changed_;     // the pool drained, or a recovery ended
  // Guarded by mutex_:
  std::vector<Pkcs11Session> sessions_;
  std::vector<size_t> idle_;  // indexes into sessions_; capacity size_, so no allocation later
  bool recovering_ = false;
  uint64_t generation_ = 1;

  std::atomic<uint64_t> recoveries_{0};
};

template <typename Fn>
absl::Status SessionPool::Run(std::string_view operation, Fn&& fn) {
  for (int attempt = 0;; ++attempt) {
    const Lease lease = Acquire();
    CK_RV rv = CKR_SESSION_HANDLE_INVALID;
    if (lease.session != CK_INVALID_HANDLE) rv = fn(std::as_const(lease));
    Release(lease.index);
    if (rv == CKR_OK) return absl::OkStatus();
    if (attempt > 0 || !IsRecoverable(rv)) return Pkcs11Status(rv, operation);
    if (absl::Status recovered = Recover(lease.generation); !recovered.ok()) return recovered;
  }
}

}  // namespace keyline::hsm
