// One CA whose certificates Keyline answers OCSP for, with the delegated responder that signs the
// answers (RFC 6960 4.2.2.2: a certificate the CA issued, with id-kp-OCSPSigning).
//
// Precomputed once: the CertID hashes of the CA for SHA-1 and SHA-256 (RFC 6960 4.1.1:
// issuerNameHash over the DER of the CA's subject, issuerKeyHash over the value of the BIT STRING
// subjectPublicKey, tag and length excluded) and the responder's byKey identifier (SHA-1 of the
// signer's subjectPublicKey, RFC 6960 4.2.1).
//
// A CertID is ours only when BOTH hashes match (cfssl answers by serial alone, which would let a
// request naming another CA's certificate get a signed "good").
//
// Immutable after New and therefore thread-safe; shared by the responder's cache entries.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hsm/signing_key.h"
#include "ocsp/ocsp_request.h"

namespace keyline::ocsp {

class OcspIssuer {
 public:
  // InvalidArgument when a certificate does not parse, the CA certificate is not a CA, the signer
  // was not issued (and signed) by the CA, lacks id-kp-OCSPSigning, or `signer_key` is not the
  // key of the signer certificate.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<const OcspIssuer>> New(
      std::string_view ca_certificate_der, std::string_view signer_certificate_der,
      std::shared_ptr<const hsm::SigningKey> signer_key);

  // True when the CertID uses SHA-1 or SHA-256 and both its issuer hashes are this CA's.
  bool Matches(const CertId& cert_id) const;

  // True when `other` is the same CA (same subject and key), possibly with another signer.
  bool SameCa(const OcspIssuer& other) const;

  // The CA's hashes for `hash` (kSha1 or kSha256; empty for kUnknown).
  const std::string& name_hash(CertIdHash hash) const;
  const std::string& key_hash(CertIdHash hash) const;

  const std::string& responder_key_hash() const { return responder_key_hash_; }
  const std::string& ca_certificate_der() const { return ca_certificate_der_; }
  const std::string& signer_certificate_der() const { return signer_certificate_der_; }
  const hsm::SigningKey& signer_key() const { return *signer_key_; }
  absl::Time signer_not_after() const { return signer_not_after_; }
  // The CA's subject as text, for logs.
  const std::string& ca_subject() const { return ca_subject_; }

 private:
  OcspIssuer() = default;

  std::string sha1_name_hash_;
  std::string sha1_key_hash_;
  std::string sha256_name_hash_;
  std::string sha256_key_hash_;
  std::string responder_key_hash_;
  std::string ca_certificate_der_;
  std::string signer_certificate_der_;
  std::shared_ptr<const hsm::SigningKey> signer_key_;
  absl::Time signer_not_after_;
  std::string ca_subject_;
};

}  // namespace keyline::ocsp
