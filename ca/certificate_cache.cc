#include "ca/certificate_cache.h"

#include <string>
#include <utility>

#include "ca/certificate_der.h"

namespace keyline::ca {
namespace {

X509Ptr SharedReference(X509* certificate) {
  X509_up_ref(certificate);
  return X509Ptr(certificate);
}

}  // namespace

absl::StatusOr<X509Ptr> CertificateCache::Parse(std::string_view der) {
  {
    std::lock_guard lock(mutex_);
    if (const X509Ptr* found = by_der_.Find(der)) return SharedReference(found->get());
  }
  // Parsed outside the lock: two threads meeting new bytes together both parse, one copy stays.
  absl::StatusOr<X509Ptr> parsed = ParseCertificateDer(der);
  if (!parsed.ok()) return parsed.status();
  std::lock_guard lock(mutex_);
  // Another thread may have stored the same bytes meanwhile: keep its copy.
  if (const X509Ptr* found = by_der_.Find(der)) return SharedReference(found->get());
  return SharedReference(by_der_.Insert(der, *std::move(parsed)).get());
}

size_t CertificateCache::size() const {
  std::lock_guard lock(mutex_);
  return by_der_.size();
}

}  // namespace keyline::ca
