// Parsed certificates by their DER bytes, shared between requests.
//
// OpenSSL 3.0 spends about 120 us in d2i_X509 for a 500-byte P-256 certificate (the public key
// goes through the provider decoders), and enrollment meets some certificates over and over: the
// manufacturer's trust anchor on every BeginEnrollment, vendors' intermediates, and the chains
// validated in full (a chain other than the registered one, see provisioning/attestation_chain.h).
// Before this cache, parsing was a third of the server's CPU in bench/enroll.
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

#include "absl/status/statusor.h"
#include "common/fifo_map.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {

class CertificateCache {
 public:
  // Keeps at most `capacity` certificates (at least one); beyond that the one that entered first
  // is dropped (common/fifo_map.h says why). Hits do not refresh an entry: anchors that every
  // enrollment meets come back after a parse when their turn comes.
  explicit CertificateCache(size_t capacity) : by_der_(capacity) {}

  // ParseCertificateDer(der), or the certificate parsed earlier from the same bytes (its own
  // reference). Failures are not remembered: the same bad bytes get the same error again.
  [[nodiscard]] absl::StatusOr<X509Ptr> Parse(std::string_view der);

  size_t size() const;

 private:
  mutable std::mutex mutex_;
  FifoMap<X509Ptr> by_der_;  // guarded by mutex_
};

}  // namespace keyline::ca
