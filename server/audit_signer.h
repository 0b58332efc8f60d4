// The HSM key that signs audit checkpoints, and its certificate from the root (profile
// audit-signer), stored in the certificates table so that every replica and every verifier finds
// it. keylinectl audit verify checks checkpoints against this certificate.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "hsm/token.h"
#include "server/ca_hierarchy.h"
#include "server/config.h"
#include "store/certificate_repository.h"

namespace keyline::server {

inline constexpr char kAuditSignerKeyLabel[] = "keyline-audit-signer";
inline constexpr char kAuditSignerSubject[] = "keyline-audit-signer";

struct AuditSigner {
  std::unique_ptr<hsm::SigningKey> key;
  std::string certificate_der;
};

// init: the key (generated once) and a certificate for it, (re)issued when missing or within 90
// days of expiry, stored with its audit event.
[[nodiscard]] absl::Status EnsureAuditSigner(const Config& config, hsm::Token& token,
                                             const CaSet& cas,
                                             store::CertificateRepository& certificates);

// serve: FailedPrecondition when init has not made it yet.
[[nodiscard]] absl::StatusOr<AuditSigner> LoadAuditSigner(hsm::Token& token,
                                                          store::CertificateRepository& certificates);

}  // namespace keyline::server
