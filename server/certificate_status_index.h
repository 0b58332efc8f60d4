// Every certificate's status, in memory, for the OCSP responder (ocsp::StatusSource): fed in full
// at startup and then by changes (server/status_sync.h), looked up by the HTTP threads when the
// pre-signed cache misses. Serials are unique across CAs (the certificates table's key), so one
// map serves every CA; a lookup for a serial that another CA issued is `unknown`.
//
// About 48 bytes a certificate: a million fit in ~50 MB.
//
// Thread safety: any method from any thread. Apply is atomic: of two threads applying a new
// serial at once (the status feed and the issuing writer), one sees kIssued.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "ocsp/certificate_status.h"
#include "ocsp/ocsp_issuer.h"
#include "store/certificate_status_feed.h"

namespace keyline::server {

class CertificateStatusIndex : public ocsp::StatusSource {
 public:
  // What Apply did with a row.
  enum class Change { kNone, kIssued, kRevoked };

  // Ties an OCSP issuer to its certificate_authorities id (several issuers may share one CA id:
  // a rotated signer).
  void RegisterIssuer(const ocsp::OcspIssuer* issuer, int32_t ca_id);

  // Records a row; kIssued for a serial not seen before (good), kRevoked when it is or becomes
  // revoked for the first time, kNone otherwise (revocation is never undone).
  Change Apply(const store::CertificateStatusRow& row);

  absl::StatusOr<ocsp::CertificateStatus> Lookup(const ocsp::OcspIssuer& issuer,
                                                 std::string_view serial) const override;

  // Whether the certificate with this serial (any CA) is known and revoked.
  bool IsRevoked(std::string_view serial) const;

  size_t size() const;

 private:
  struct Key {
    uint8_t length = 0;
    std::array<char, 20> bytes{};
    template <typename H>
    friend H AbslHashValue(H state, const Key& key) {
      return H::combine(std::move(state),
                        std::string_view(key.bytes.data(), key.length));
    }
    friend bool operator==(const Key& a, const Key& b) {
      return a.length == b.length && a.bytes == b.bytes;
    }
  };
  struct Entry {
    int32_t ca_id = 0;
    int8_t reason = -1;           // -1: good
    int64_t revoked_at_seconds = 0;
  };
  static std::optional<Key> KeyOf(std::string_view serial);

  mutable std::shared_mutex mutex_;
  absl::flat_hash_map<Key, Entry> entries_;                      // guarded by mutex_
  absl::flat_hash_map<const ocsp::OcspIssuer*, int32_t> issuers_;  // guarded by mutex_
};

}  // namespace keyline::server
