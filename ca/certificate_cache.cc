#include "ca/certificate_cache.h"

#include <algorithm>
#include <utility>

#include "ca/certificate_der.h"
#include "common/absl_compat.h"

namespace keyline::ca {
namespace {

X509Ptr SharedReference(X509* certificate) {
  X509_up_ref(certificate);
  return X509Ptr(certificate);
}

}  // namespace

CertificateCache::CertificateCache(size_t capacity) : capacity_(std::max<size_t>(1, capacity)) {}

absl::StatusOr<X509Ptr> CertificateCache::Parse(std::string_view der) {
  {
    std::lock_guard lock(mutex_);
    const auto found = by_der_.find(AsAbsl(der));
    if (found != by_der_.end()) return SharedReference(found->second.get());
  }
  // Parsed outside the lock: two threads meeting new bytes together both parse, one copy stays.
  absl::StatusOr<X509Ptr> parsed = ParseCertificateDer(der);
  if (!parsed.ok()) return parsed.status();
  std::lock_guard lock(mutex_);
  if (by_der_.size() >= capacity_ && !by_der_.contains(AsAbsl(der))) by_der_.erase(by_der_.begin());
  // try_emplace leaves `parsed` alone when another thread stored the same bytes meanwhile.
  const auto entry = by_der_.try_emplace(std::string(der), std::move(*parsed)).first;
  return SharedReference(entry->second.get());
}

size_t CertificateCache::size() const {
  std::lock_guard lock(mutex_);
  return by_der_.size();
}

}  // namespace keyline::ca
