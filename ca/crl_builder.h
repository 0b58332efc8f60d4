// Builds one CA's full and delta CRLs (RFC 5280 5) from revoked entries encoded once, when added.
//
// Each revokedCertificates entry is DER-encoded by Add and kept, in insertion order, in an
// append-only arena (ca/crl_entry_arena.h). A CRL is then the TBS header, the stored bytes copied
// as they are and the extensions, hashed while they are copied and signed by the CA key: building
// a million-entry CRL costs one memcpy and one SHA-256 pass over ~45 MB, never a re-encoding.
// Memory for a million entries: ~44 MB of encoded entries plus an 18 MB serial set (Reserve first
// so the set does not double while loading); each built CRL is another ~45 MB while held.
// (The SHA state cannot be cached across builds: thisUpdate and the lengths that precede the
// entries in the TBSCertList change with every build.)
//
// What the CRLs say:
//   version v2; signature ecdsa-with-SHA256 or -SHA384 (the CA key's); issuer = the CA
//   certificate's subject, its DER copied; thisUpdate/nextUpdate (UTCTime through 2049,
//   GeneralizedTime after, RFC 5280 5.1.2.4); revokedCertificates in insertion order (absent when
//   empty, 5.1.2.6); extensions:
//     authorityKeyIdentifier = the CA's subjectKeyIdentifier (5.2.1)
//     cRLNumber (5.2.3)
//     deltaCRLIndicator, critical = the base CRL number (delta CRLs only, 5.2.4)
//     issuingDistributionPoint, critical = the CRL URL, the one the CA's certificates carry in
//       their cRLDistributionPoints (ca/profiles.h CrlUrl) (5.2.5). Delta CRLs carry the SAME
//       value, not the delta URL: 5.2.4 requires a delta and its base to have identical
//       issuingDistributionPoint extensions to be combined, and OpenSSL (-use_deltas) ignores a
//       delta whose extension differs.
//       Not in a root's (self-issued CA's) CRLs: a root has no cRLDistributionPoints, and a relying
//       party that checks the root itself against the root's CRL (OpenSSL's -crl_check_all does)
//       finds an issuingDistributionPoint naming a distribution point out of scope for it (RFC 5280
//       6.3.3 (b)(2); X509_V_ERR_DIFFERENT_CRL_SCOPE). Without it, the root's CRL is complete for
//       everything the root issued, which is what it is.
//     freshestCRL = the delta CRL URL, DeltaCrlUrl(crl_url) (full CRLs only: 5.2.6 forbids it in
//       delta CRLs).
//
// What the caller (the server) must do: number full and delta CRLs from one sequence, increasing
// (5.2.3: a full and a delta issued together share a number); pass as a delta's base the number
// of a full CRL this builder built and that was published. The builder checks that the signer is
// the CA's key and that the base is one it built, not that numbers increase across builds.
//
// Entries are never removed: revocation is permanent here. Adding a serial that is already
// present changes nothing (the first reason and dates stay). Reason certificateHold and
// removeFromCRL are accepted as RFC 5280 values, but Keyline never un-revokes.
//
// Thread safety: every method may be called from any thread at once. Add takes the lock briefly,
// AddBulk once per batch of 4096 entries; Build* take it only to snapshot where the entries end
// and to record the result, then copy, hash and sign without it (entries already stored never
// move or change), so an Add from the revocation-notification thread never waits for a build.
// Latest*() hand out immutable snapshots (shared_ptr<const std::string>) that HTTP threads may
// serve while the next build runs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <openssl/x509.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/crl_der.h"
#include "ca/crl_entry_arena.h"
#include "ca/revocation_reason.h"
#include "common/openssl_ptr.h"
#include "hsm/signing_key.h"

namespace keyline::ca {

// One revoked certificate, as the store hands it over.
struct RevokedEntry {
  std::string_view serial;  // big-endian magnitude (leading zero octets are ignored)
  absl::Time revoked_at;    // encoded in whole seconds
  int reason = kUnspecified;  // CRLReason code (ca/revocation_reason.h)
  std::optional<absl::Time> invalidity_date;  // when the key is known to have been compromised
};

// A signed CRL and what it says.
struct BuiltCrl {
  std::shared_ptr<const std::string> der;  // the CertificateList; null when none was built yet
  uint64_t crl_number = 0;
  std::optional<uint64_t> base_crl_number;  // set for delta CRLs
  size_t entries = 0;
  absl::Time this_update;
  absl::Time next_update;
};

// "<base>/crl/deployment-default.crl" -> "<base>/crl/deployment-default-delta.crl": "-delta" goes
// before a trailing ".crl", or at the end of a URL without one.
std::string DeltaCrlUrl(std::string_view crl_url);

class CrlBuilder {
 public:
  // `ca_certificate` is the CA whose CRLs this builds: its subject becomes the issuer, its
  // subjectKeyIdentifier the authorityKeyIdentifier, its key must sign. `crl_url` is the URL in
  // its certificates' cRLDistributionPoints. InvalidArgument for a null certificate, one without
  // subjectKeyIdentifier or whose keyUsage lacks cRLSign, or an empty URL.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CrlBuilder>> Create(
      const X509* ca_certificate, std::string crl_url);

  CrlBuilder(const CrlBuilder&) = delete;
  CrlBuilder& operator=(const CrlBuilder&) = delete;

  // Sizes the serial set for `entries` in all before a bulk load.
  void Reserve(size_t entries);

  // Encodes and stores one entry. Returns true when it was stored, false when the serial was
  // already present (nothing changes). InvalidArgument, changing nothing, for an empty, zero or
  // over-20-octet serial, a reason that is not a CRLReason (0-10 except 7), or a date outside
  // years 0001-9999; ResourceExhausted past 4 GiB of entries.
  [[nodiscard]] absl::StatusOr<bool> Add(std::string_view serial, absl::Time revoked_at,
                                         int reason,
                                         std::optional<absl::Time> invalidity_date = std::nullopt);
  [[nodiscard]] absl::StatusOr<bool> Add(const RevokedEntry& entry);

  // The cold-start path: checks every entry first, then encodes and stores them in batches.
  // Returns how many were stored (duplicates are skipped). On InvalidArgument, naming the entry
  // ("entries[17].serial: empty"), nothing is stored; ResourceExhausted (past 4 GiB) may leave
  // the entries before the failing one stored.
  [[nodiscard]] absl::StatusOr<size_t> AddBulk(std::span<const RevokedEntry> entries);

  // Signs a full CRL with every entry stored so far and remembers where it ended, so that deltas
  // may name it as their base (the last 16 full CRLs are remembered). InvalidArgument when
  // next_update is not after this_update or a time cannot be encoded; FailedPrecondition when
  // `signer` is not the CA certificate's key; the signer's errors as they come.
  [[nodiscard]] absl::StatusOr<BuiltCrl> BuildFull(uint64_t crl_number, absl::Time this_update,
                                                   absl::Time next_update,
                                                   const hsm::SigningKey& signer);

  // Signs a delta CRL with the entries stored after the full CRL numbered `base_crl_number` was
  // built. InvalidArgument as BuildFull and when base_crl_number >= crl_number;
  // FailedPrecondition when this builder did not build that full CRL (or has forgotten it).
  [[nodiscard]] absl::StatusOr<BuiltCrl> BuildDelta(uint64_t crl_number, uint64_t base_crl_number,
                                                    absl::Time this_update, absl::Time next_update,
                                                    const hsm::SigningKey& signer);

  // The delta CRL issued together with the full CRL numbered `full_crl_number` (RFC 5280 5.2.3:
  // they share that number and give the same revocation information): the entries stored after
  // the full CRL `base_crl_number` up to where `full_crl_number` ended, whatever was added since.
  // InvalidArgument as BuildDelta; FailedPrecondition when this builder did not build (or has
  // forgotten) either full CRL.
  [[nodiscard]] absl::StatusOr<BuiltCrl> BuildDeltaWithFull(uint64_t full_crl_number,
                                                            uint64_t base_crl_number,
                                                            absl::Time this_update,
                                                            absl::Time next_update,
                                                            const hsm::SigningKey& signer);

  // The most recently numbered CRLs built so far (der is null before the first).
  BuiltCrl LatestFull() const;
  BuiltCrl LatestDelta() const;

  size_t size() const;
  // Bytes held for the stored entries (arena chunks and the serial set), not counting CRLs.
  size_t MemoryBytes() const;
  const std::string& crl_url() const { return crl_url_; }
  const std::string& delta_crl_url() const { return delta_crl_url_; }

 private:
  CrlBuilder(EvpPkeyPtr ca_public_key, std::string issuer_name_der, std::string key_id,
             std::string crl_url, bool self_issued);

  // A delta when base_crl_number is set; its entries end where the full CRL `end_at_full` ended
  // when that is set, and at the last entry stored otherwise.
  [[nodiscard]] absl::StatusOr<BuiltCrl> Build(uint64_t crl_number,
                                               std::optional<uint64_t> base_crl_number,
                                               std::optional<uint64_t> end_at_full,
                                               absl::Time this_update, absl::Time next_update,
                                               const hsm::SigningKey& signer);

  const EvpPkeyPtr ca_public_key_;
  const std::string issuer_name_der_;
  const std::string crl_url_;
  const std::string delta_crl_url_;
  // Extensions that never change, encoded once.
  const std::string authority_key_id_extension_;
  const std::string distribution_point_extension_;  // empty for a self-issued CA
  const std::string freshest_crl_extension_;

  mutable std::mutex mutex_;
  CrlEntryArena arena_;                                // guarded by mutex_
  std::map<uint64_t, CrlEntryArena::Mark> full_ends_;  // guarded by mutex_: where fulls ended
  BuiltCrl latest_full_;                               // guarded by mutex_
  BuiltCrl latest_delta_;                              // guarded by mutex_
};

}  // namespace keyline::ca
