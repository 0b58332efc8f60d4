// Parsed certificates by their DER bytes, shared between requests.
//
// OpenSSL 3.0 spends about 120 us in d2i_X509 for a 500-byte P-256 certificate (the public key
// goes through the provider decoders), and enrollment meets the same certificates over and over:
// the manufacturer's trust anchor on every BeginEnrollment, a device's attestation certificate in
// BeginEnrollment and again in CompleteEnrollment. Before this cache, parsing was a third of the
// server's CPU in bench/enroll.
//
// A certificate handed out is shared with the cache and with other threads: treat it as
// immutable (read it, verify with it, put it in a store; never set fields on it). OpenSSL guards
// the lazily computed parts of an X509 (extension cache) with its own lock.
//
// Thread safety: Parse may be called from many threads.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {

class CertificateCache {
 public:
  // Keeps at most `capacity` certificates (at least one); beyond that an arbitrary one is dropped.
  explicit CertificateCache(size_t capacity);

  // ParseCertificateDer(der), or the certificate parsed earlier from the same bytes (its own
  // reference). Failures are not remembered: the same bad bytes get the same error again.
  [[nodiscard]] absl::StatusOr<X509Ptr> Parse(std::string_view der);

  size_t size() const;

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  absl::flat_hash_map<std::string, X509Ptr> by_der_;  // guarded by mutex_
};

}  // namespace keyline::ca
