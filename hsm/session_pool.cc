#include "hsm/session_pool.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace keyline::hsm {

absl::StatusOr<std::shared_ptr<SessionPool>> SessionPool::Open(std::shared_ptr<Pkcs11Module> module,
                                                               CK_SLOT_ID slot, std::string pin,
                                                               size_t size) {
  if (size == 0) size = std::max(1u, std::thread::hardware_concurrency());
  std::shared_ptr<SessionPool> pool(new SessionPool(std::move(module), slot, std::move(pin), size));
  std::lock_guard lock(pool->mutex_);
  if (absl::Status status = pool->OpenMissingSessionsAndLogIn(); !status.ok()) return status;
  return pool;
}

SessionPool::SessionPool(std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot, std::string pin,
                         size_t size)
    : module_(std::move(module)),
      functions_(module_->functions()),
      slot_(slot),
      size_(size),
      pin_(std::move(pin)),
      sessions_(size) {
  idle_.reserve(size);
  for (size_t i = 0; i < size; ++i) idle_.push_back(i);
}

SessionPool::~SessionPool() {
  // The sessions close themselves. No C_Logout: login state is shared by the whole application,
  // and closing the application's last session on the token logs it out anyway.
  OPENSSL_cleanse(pin_.data(), pin_.size());
}

SessionPool::Lease SessionPool::Acquire() {
  std::unique_lock lock(mutex_);
  session_returned_.wait(lock, [this] { return !recovering_ && !idle_.empty(); });
  const size_t index = idle_.back();
  idle_.pop_back();
  return Lease{index, sessions_[index].handle(), generation_};
}

void SessionPool::Release(size_t index) {
  bool drained;
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(index);
    drained = recovering_ && idle_.size() == sessions_.size();
  }
  session_returned_.notify_one();
  if (drained) state_changed_.notify_all();
}

absl::Status SessionPool::Recover(uint64_t failed_generation) {
  std::unique_lock lock(mutex_);
  state_changed_.wait(lock, [this] { return !recovering_; });
  if (generation_ != failed_generation) return absl::OkStatus();  // another thread recovered
  recovering_ = true;
  // Closing a session another thread is signing with would break its operation; wait for all.
  state_changed_.wait(lock, [this] { return idle_.size() == sessions_.size(); });

  for (Pkcs11Session& session : sessions_) {
    if (!session.is_open()) continue;
    CK_SESSION_INFO info{};
    if (functions_->C_GetSessionInfo(session.handle(), &info) == CKR_OK && info.slotID == slot_) {
      session.Reset();
    } else {
      session.Abandon();
    }
  }
  absl::Status status = OpenMissingSessionsAndLogIn();
  ++generation_;
  recovering_ = false;
  if (status.ok()) recoveries_.fetch_add(1, std::memory_order_relaxed);
  lock.unlock();
  // Waiters for a session were told to wait while recovering; all of them may go now.
  session_returned_.notify_all();
  state_changed_.notify_all();
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("HSM session recovery failed: ", status.message()));
  }
  return absl::OkStatus();
}

absl::Status SessionPool::OpenMissingSessionsAndLogIn() {
  for (Pkcs11Session& session : sessions_) {
    if (session.is_open()) continue;
    absl::StatusOr<Pkcs11Session> opened = Pkcs11Session::Open(functions_, slot_, true);
    if (!opened.ok()) return opened.status();
    session = *std::move(opened);
  }
  // One login serves every session of the application on this token.
  const CK_RV rv = functions_->C_Login(sessions_.front().handle(), CKU_USER,
                                       reinterpret_cast<CK_UTF8CHAR*>(pin_.data()), pin_.size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) return Pkcs11Status(rv, "C_Login");
  return absl::OkStatus();
}

}  // namespace keyline::hsm
