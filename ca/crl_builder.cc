#include "ca/crl_builder.h"

#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509v3.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "ca/x509_signing.h"
#include "common/absl_compat.h"
#include "common/der_encoding.h"
#include "common/der_writer.h"
#include "common/digests.h"
#include "common/openssl_error.h"
#include "common/status_macros.h"

namespace keyline::ca {
namespace {

constexpr uint8_t kTagContext0 = der::ContextConstructed(0);
constexpr uint8_t kTagKeyIdentifier = der::ContextPrimitive(0);  // AuthorityKeyIdentifier

// Extension OIDs (id-ce, 2.5.29.x) as DER, and BOOLEAN TRUE for critical extensions.
constexpr std::string_view kOidAuthorityKeyId = "\x06\x03\x55\x1d\x23";
constexpr std::string_view kOidCrlNumber = "\x06\x03\x55\x1d\x14";
constexpr std::string_view kOidDeltaCrlIndicator = "\x06\x03\x55\x1d\x1b";
constexpr std::string_view kOidIssuingDistributionPoint = "\x06\x03\x55\x1d\x1c";
constexpr std::string_view kOidFreshestCrl = "\x06\x03\x55\x1d\x2e";
constexpr std::string_view kCritical = "\x01\x01\xff";

// AlgorithmIdentifier with absent parameters (RFC 5758 3.2).
constexpr std::string_view kEcdsaWithSha256 = "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02";
constexpr std::string_view kEcdsaWithSha384 = "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03";
constexpr std::string_view kVersion2 = "\x02\x01\x01";

// How many full CRLs a delta may name as its base.
constexpr size_t kRememberedFullCrls = 16;

std::string Extension(std::string_view oid, bool critical, std::string_view value) {
  return der::Tlv(der::kSequence,
                  {oid, critical ? kCritical : "", der::Tlv(der::kOctetString, value)});
}

// The largest DER ECDSA-Sig-Value for the key: two INTEGERs of the field size plus a sign octet.
size_t MaxSignatureBytes(hsm::KeyAlgorithm algorithm) {
  const size_t field = algorithm == hsm::KeyAlgorithm::kEcdsaP384 ? 48 : 32;
  return 2 + 2 * (2 + field + 1);
}

absl::Status CheckUrl(std::string_view url) {
  if (url.empty()) return absl::InvalidArgumentError("crl_url: empty");
  for (char c : url) {
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e) {
      return absl::InvalidArgumentError("crl_url: not a printable ASCII URL (IA5String)");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string DeltaCrlUrl(std::string_view crl_url) {
  if (absl::EndsWith(AsAbsl(crl_url), ".crl")) {
    crl_url.remove_suffix(4);
    return absl::StrCat(AsAbsl(crl_url), "-delta.crl");
  }
  return absl::StrCat(AsAbsl(crl_url), "-delta");
}

absl::StatusOr<std::unique_ptr<CrlBuilder>> CrlBuilder::Create(const X509* ca_certificate,
                                                               std::string crl_url) {
  if (ca_certificate == nullptr) return absl::InvalidArgumentError("ca_certificate: null");
  KEYLINE_RETURN_IF_ERROR(CheckUrl(crl_url));
  std::string key_id = SubjectKeyIdOf(ca_certificate);
  if (key_id.empty()) {
    return absl::InvalidArgumentError("ca_certificate: no subjectKeyIdentifier");
  }
  // X509_get_key_usage only caches the decoded extensions; it does not change the certificate.
  if ((X509_get_key_usage(const_cast<X509*>(ca_certificate)) & KU_CRL_SIGN) == 0) {
    return absl::InvalidArgumentError("ca_certificate: keyUsage lacks cRLSign");
  }
  EVP_PKEY* public_key = X509_get0_pubkey(ca_certificate);
  if (public_key == nullptr || EVP_PKEY_up_ref(public_key) != 1) {
    return absl::InvalidArgumentError("ca_certificate: no usable public key");
  }
  EvpPkeyPtr owned_key(public_key);
  // The Name's DER as the certificate carries it: OpenSSL keeps the received encoding.
  KEYLINE_ASSIGN_OR_RETURN(
      std::string issuer_name_der,
      EncodeDer([&](unsigned char** out) {
        return i2d_X509_NAME(X509_get_subject_name(ca_certificate), out);
      }, "CA subject"));
  const bool self_issued = X509_NAME_cmp(X509_get_subject_name(ca_certificate),
                                         X509_get_issuer_name(ca_certificate)) == 0;
  return std::unique_ptr<CrlBuilder>(new CrlBuilder(std::move(owned_key),
                                                    std::move(issuer_name_der), std::move(key_id),
                                                    std::move(crl_url), self_issued));
}

CrlBuilder::CrlBuilder(EvpPkeyPtr ca_public_key, std::string issuer_name_der, std::string key_id,
                       std::string crl_url, bool self_issued)
    : ca_public_key_(std::move(ca_public_key)),
      issuer_name_der_(std::move(issuer_name_der)),
      crl_url_(std::move(crl_url)),
      delta_crl_url_(DeltaCrlUrl(crl_url_)),
      authority_key_id_extension_(
          Extension(kOidAuthorityKeyId, false,
                    der::Tlv(der::kSequence, der::Tlv(kTagKeyIdentifier, key_id)))),
      distribution_point_extension_(
          self_issued ? std::string()
                      : Extension(kOidIssuingDistributionPoint, true,
                                  der::Tlv(der::kSequence, DistributionPointName(crl_url_)))),
      freshest_crl_extension_(
          Extension(kOidFreshestCrl, false,
                    der::Tlv(der::kSequence,
                             der::Tlv(der::kSequence, DistributionPointName(delta_crl_url_))))) {}

void CrlBuilder::Reserve(size_t entries) {
  std::lock_guard<std::mutex> lock(mutex_);
  arena_.Reserve(entries);
}

namespace {

// Checks everything Add checks; `serial_content` receives the INTEGER content. Field names are
// constants so that checking a million entries allocates nothing.
absl::Status CheckEntry(const RevokedEntry& entry, std::string* serial_content) {
  KEYLINE_RETURN_IF_ERROR(SerialIntegerContent(entry.serial, "serial", serial_content));
  KEYLINE_RETURN_IF_ERROR(CheckCrlReason(entry.reason, "reason"));
  KEYLINE_RETURN_IF_ERROR(CheckCrlTime(entry.revoked_at, "revoked_at"));
  if (entry.invalidity_date.has_value()) {
    KEYLINE_RETURN_IF_ERROR(CheckCrlTime(*entry.invalidity_date, "invalidity_date"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<bool> CrlBuilder::Add(std::string_view serial, absl::Time revoked_at,
                                     int reason, std::optional<absl::Time> invalidity_date) {
  return Add(RevokedEntry{serial, revoked_at, reason, invalidity_date});
}

absl::StatusOr<bool> CrlBuilder::Add(const RevokedEntry& entry) {
  std::string serial_content;
  KEYLINE_RETURN_IF_ERROR(CheckEntry(entry, &serial_content));
  char encoded[kMaxRevokedEntryBytes];
  const size_t length = EncodeRevokedEntry(serial_content, entry.revoked_at, entry.reason,
                                           entry.invalidity_date, encoded);
  std::lock_guard<std::mutex> lock(mutex_);
  return arena_.Append(std::string_view(encoded, length));
}

absl::StatusOr<size_t> CrlBuilder::AddBulk(std::span<const RevokedEntry> entries) {
  std::string serial_content;
  serial_content.reserve(kMaxSerialOctets + 1);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (absl::Status status = CheckEntry(entries[i], &serial_content); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entries[", i, "].", status.message()));
    }
  }
  // Encoded outside the lock in batches, so a concurrent build waits for one batch at most.
  constexpr size_t kBatch = 4096;
  std::string batch;
  std::vector<uint8_t> lengths;
  batch.reserve(kBatch * 64);
  lengths.reserve(kBatch);
  size_t stored = 0;
  for (size_t begin = 0; begin < entries.size(); begin += kBatch) {
    batch.clear();
    lengths.clear();
    const size_t end = std::min(entries.size(), begin + kBatch);
    for (size_t i = begin; i < end; ++i) {
      const RevokedEntry& entry = entries[i];
      (void)SerialIntegerContent(entry.serial, "serial", &serial_content);  // checked above
      char encoded[kMaxRevokedEntryBytes];
      const size_t length = EncodeRevokedEntry(serial_content, entry.revoked_at, entry.reason,
                                               entry.invalidity_date, encoded);
      batch.append(encoded, length);
      lengths.push_back(static_cast<uint8_t>(length));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    size_t offset = 0;
    for (uint8_t length : lengths) {
      KEYLINE_ASSIGN_OR_RETURN(bool added,
                               arena_.Append(std::string_view(batch).substr(offset, length)));
      stored += added ? 1 : 0;
      offset += length;
    }
  }
  return stored;
}

absl::StatusOr<BuiltCrl> CrlBuilder::BuildFull(uint64_t crl_number, absl::Time this_update,
                                               absl::Time next_update,
                                               const hsm::SigningKey& signer) {
  return Build(crl_number, std::nullopt, std::nullopt, this_update, next_update, signer);
}

absl::StatusOr<BuiltCrl> CrlBuilder::BuildDelta(uint64_t crl_number, uint64_t base_crl_number,
                                                absl::Time this_update, absl::Time next_update,
                                                const hsm::SigningKey& signer) {
  if (base_crl_number >= crl_number) {
    return absl::InvalidArgumentError(absl::StrCat("base_crl_number: ", base_crl_number,
                                                   " is not below crl_number ", crl_number));
  }
  return Build(crl_number, base_crl_number, std::nullopt, this_update, next_update, signer);
}

absl::StatusOr<BuiltCrl> CrlBuilder::BuildDeltaWithFull(uint64_t full_crl_number,
                                                        uint64_t base_crl_number,
                                                        absl::Time this_update,
                                                        absl::Time next_update,
                                                        const hsm::SigningKey& signer) {
  if (base_crl_number >= full_crl_number) {
    return absl::InvalidArgumentError(absl::StrCat("base_crl_number: ", base_crl_number,
                                                   " is not below crl_number ", full_crl_number));
  }
  return Build(full_crl_number, base_crl_number, full_crl_number, this_update, next_update, signer);
}

absl::StatusOr<BuiltCrl> CrlBuilder::Build(uint64_t crl_number,
                                           std::optional<uint64_t> base_crl_number,
                                           std::optional<uint64_t> end_at_full,
                                           absl::Time this_update, absl::Time next_update,
                                           const hsm::SigningKey& signer) {
  KEYLINE_RETURN_IF_ERROR(CheckCrlTime(this_update, "this_update"));
  KEYLINE_RETURN_IF_ERROR(CheckCrlTime(next_update, "next_update"));
  if (absl::ToUnixSeconds(next_update) <= absl::ToUnixSeconds(this_update)) {
    return absl::InvalidArgumentError("next_update: not after this_update");
  }
  if (EVP_PKEY_eq(ca_public_key_.get(), signer.public_key()) != 1) {
    return absl::FailedPreconditionError("signer: not the key of the CA certificate");
  }

  // Where the entries end now; later additions go to the next CRL. The bytes below never change,
  // so they are read without the lock.
  CrlEntryArena::Mark end;
  std::vector<std::string_view> pieces;
  size_t entry_count = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto end_of_full = [this](uint64_t number,
                                    std::string_view field) -> absl::StatusOr<CrlEntryArena::Mark> {
      auto found = full_ends_.find(number);
      if (found == full_ends_.end()) {
        return absl::FailedPreconditionError(
            absl::StrCat(AsAbsl(field), ": full CRL ", number,
                         " was not built by this builder (or is older than the last ",
                         kRememberedFullCrls, ")"));
      }
      return found->second;
    };
    end = arena_.End();
    if (end_at_full.has_value()) {
      KEYLINE_ASSIGN_OR_RETURN(end, end_of_full(*end_at_full, "crl_number"));
    }
    CrlEntryArena::Mark begin;
    if (base_crl_number.has_value()) {
      KEYLINE_ASSIGN_OR_RETURN(begin, end_of_full(*base_crl_number, "base_crl_number"));
    }
    pieces = arena_.Pieces(begin, end);
    entry_count = end.entries - begin.entries;
  }
  size_t entry_bytes = 0;
  for (std::string_view piece : pieces) entry_bytes += piece.size();

  const bool p384 = SignatureNid(signer) == NID_ecdsa_with_SHA384;
  const std::string_view algorithm = p384 ? kEcdsaWithSha384 : kEcdsaWithSha256;

  std::string head = absl::StrCat(AsAbsl(kVersion2), AsAbsl(algorithm), issuer_name_der_);
  AppendCrlTime(head, this_update);
  AppendCrlTime(head, next_update);
  if (entry_count > 0) der::AppendHeader(head, der::kSequence, entry_bytes);

  std::string extensions = absl::StrCat(
      authority_key_id_extension_,
      Extension(kOidCrlNumber, false, DerUnsignedInteger(crl_number)),
      base_crl_number.has_value()
          ? Extension(kOidDeltaCrlIndicator, true, DerUnsignedInteger(*base_crl_number))
          : std::string(),
      distribution_point_extension_, base_crl_number.has_value() ? "" : freshest_crl_extension_);
  const std::string tail = der::Tlv(kTagContext0, der::Tlv(der::kSequence, extensions));

  const size_t tbs_content = head.size() + entry_bytes + tail.size();
  const size_t tbs_bytes = der::HeaderSize(tbs_content) + tbs_content;
  const size_t max_signature = MaxSignatureBytes(signer.algorithm());
  const size_t max_outer_content =
      tbs_bytes + algorithm.size() + der::HeaderSize(max_signature + 1) + 1 + max_signature;
  // The outer SEQUENCE's length depends on the signature's, known only after signing: leave room
  // for the longest header and fill it in last.
  const size_t reserved_header = der::HeaderSize(max_outer_content);

  std::string der;
  der.reserve(reserved_header + max_outer_content);
  der.append(reserved_header, '\0');

  EvpMdCtxPtr digest_context(EVP_MD_CTX_new());
  if (!digest_context || EVP_DigestInit_ex(digest_context.get(),
                                           p384 ? Sha384Digest() : Sha256Digest(), nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "CRL digest");
  }
  // Hashes each piece as it is copied, while it is still in the cache.
  auto append_hashed = [&](std::string_view bytes) {
    der.append(bytes);
    return EVP_DigestUpdate(digest_context.get(), bytes.data(), bytes.size()) == 1;
  };
  std::string tbs_header;
  der::AppendHeader(tbs_header, der::kSequence, tbs_content);
  bool hashed = append_hashed(tbs_header) && append_hashed(head);
  for (std::string_view piece : pieces) hashed = hashed && append_hashed(piece);
  hashed = hashed && append_hashed(tail);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (!hashed || EVP_DigestFinal_ex(digest_context.get(), digest, &digest_length) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "CRL digest");
  }

  KEYLINE_ASSIGN_OR_RETURN(
      std::string signature,
      signer.SignDigest(std::string_view(reinterpret_cast<const char*>(digest), digest_length)));
  if (signature.empty() || signature.size() > max_signature) {
    return absl::InternalError("CRL signature: longer than an ECDSA-Sig-Value can be");
  }
  der.append(algorithm);
  der::AppendHeader(der, der::kBitString, signature.size() + 1);
  der.push_back('\0');  // a whole number of octets: no unused bits
  der.append(signature);

  std::string outer_header;
  der::AppendHeader(outer_header, der::kSequence, der.size() - reserved_header);
  if (outer_header.size() == reserved_header) {
    std::memcpy(der.data(), outer_header.data(), outer_header.size());
  } else {
    // A shorter signature crossed a length-octet boundary: rare, costs one move.
    der.replace(0, reserved_header, outer_header);
  }

  BuiltCrl built;
  built.der = std::make_shared<const std::string>(std::move(der));
  built.crl_number = crl_number;
  built.base_crl_number = base_crl_number;
  built.entries = entry_count;
  built.this_update = absl::FromUnixSeconds(absl::ToUnixSeconds(this_update));
  built.next_update = absl::FromUnixSeconds(absl::ToUnixSeconds(next_update));

  std::lock_guard<std::mutex> lock(mutex_);
  BuiltCrl& latest = base_crl_number.has_value() ? latest_delta_ : latest_full_;
  if (!latest.der || crl_number >= latest.crl_number) latest = built;
  if (!base_crl_number.has_value()) {
    full_ends_[crl_number] = end;
    while (full_ends_.size() > kRememberedFullCrls) full_ends_.erase(full_ends_.begin());
  }
  return built;
}

BuiltCrl CrlBuilder::LatestFull() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return latest_full_;
}

BuiltCrl CrlBuilder::LatestDelta() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return latest_delta_;
}

size_t CrlBuilder::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return arena_.size();
}

size_t CrlBuilder::MemoryBytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return arena_.MemoryBytes();
}

}  // namespace keyline::ca
