// A StatusSource over a map, for tests: statuses by serial (any issuer), an injectable failure and
// a lookup counter. Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "ocsp/certificate_status.h"

namespace keyline::ocsp::testing {

class InMemoryStatusSource : public StatusSource {
 public:
  void SetGood(std::string_view serial);
  void SetRevoked(std::string_view serial, absl::Time revoked_at, std::optional<int> reason);
  void Forget(std::string_view serial);  // the serial becomes unknown again
  // Every Lookup returns `error` until called again with OkStatus.
  void FailWith(absl::Status error);
  size_t lookups() const { return lookups_.load(); }

  absl::StatusOr<CertificateStatus> Lookup(const OcspIssuer& issuer,
                                           std::string_view serial) const override;

 private:
  mutable absl::Mutex mutex_;
  absl::flat_hash_map<std::string, CertificateStatus> statuses_ ABSL_GUARDED_BY(mutex_);
  absl::Status error_ ABSL_GUARDED_BY(mutex_);
  mutable std::atomic<size_t> lookups_{0};
};

}  // namespace keyline::ocsp::testing
