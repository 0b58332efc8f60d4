#include "ocsp/testing/in_memory_status_source.h"

#include "common/absl_compat.h"

namespace keyline::ocsp::testing {

void InMemoryStatusSource::SetGood(std::string_view serial) {
  absl::MutexLock lock(&mutex_);
  statuses_[AsAbsl(serial)] = CertificateStatus{CertificateStatus::Kind::kGood, {}, std::nullopt};
}

void InMemoryStatusSource::SetRevoked(std::string_view serial, absl::Time revoked_at,
                                      std::optional<int> reason) {
  absl::MutexLock lock(&mutex_);
  statuses_[AsAbsl(serial)] =
      CertificateStatus{CertificateStatus::Kind::kRevoked, revoked_at, reason};
}

void InMemoryStatusSource::Forget(std::string_view serial) {
  absl::MutexLock lock(&mutex_);
  statuses_.erase(AsAbsl(serial));
}

void InMemoryStatusSource::FailWith(absl::Status error) {
  absl::MutexLock lock(&mutex_);
  error_ = std::move(error);
}

absl::StatusOr<CertificateStatus> InMemoryStatusSource::Lookup(const OcspIssuer& /*issuer*/,
                                                               std::string_view serial) const {
  lookups_.fetch_add(1);
  absl::MutexLock lock(&mutex_);
  if (!error_.ok()) return error_;
  const auto entry = statuses_.find(AsAbsl(serial));
  if (entry == statuses_.end()) return CertificateStatus{};
  return entry->second;
}

}  // namespace keyline::ocsp::testing
