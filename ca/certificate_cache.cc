#include "ca/certificate_cache.h"

#include <algorithm>
#include <string>
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
  // Another thread may have stored the same bytes meanwhile: keep its copy.
  if (const auto found = by_der_.find(AsAbsl(der)); found != by_der_.end()) {
    return SharedReference(found->second.get());
  }
  if (entry_order_.size() < capacity_) {
    entry_order_.emplace_back(der);
  } else {
    by_der_.erase(entry_order_[next_victim_]);
    entry_order_[next_victim_].assign(der);
    next_victim_ = (next_victim_ + 1) % capacity_;
  }
  const auto entry = by_der_.emplace(std::string(der), std::move(*parsed)).first;
  return SharedReference(entry->second.get());
}

size_t CertificateCache::size() const {
  std::lock_guard lock(mutex_);
  return by_der_.size();
}

}  // namespace keyline::ca
