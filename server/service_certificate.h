// Certificates Keyline issues to its own HSM keys (the audit signer, the OCSP signers): issued
// from one of its CAs, stored in the certificates table with an audit event, so every replica and
// every verifier finds them.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "ca/certificate_builder.h"
#include "ca/issuing_ca.h"
#include "ca/profiles.h"
#include "hsm/signing_key.h"
#include "store/certificate_repository.h"

namespace keyline::server {

struct ServiceCertificateRecord {
  std::string profile;  // "audit-signer", "ocsp-signer"
  std::string subject;  // the certificates.subject column
  std::string actor;    // audit actor, e.g. "system:init"
  std::string action;   // audit action, e.g. "audit.signer.issued"
  nlohmann::json details = nlohmann::json::object();
};

struct IssuedServiceCertificate {
  std::string serial;  // raw magnitude
  ca::BuiltCertificate built;
};

// Issues `key` a certificate from `issuer` under the template `make_template` builds (with a fresh
// serial, now), and stores it as `record` says, audit target the serial in hex.
[[nodiscard]] absl::StatusOr<IssuedServiceCertificate> IssueServiceCertificate(
    const ca::ProfileSettings& profiles, const ca::IssuingCa& issuer, const hsm::SigningKey& key,
    absl::FunctionRef<ca::CertificateTemplate(const ca::IssueContext&)> make_template,
    const ServiceCertificateRecord& record, store::CertificateRepository& certificates);

}  // namespace keyline::server
