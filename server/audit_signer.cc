#include "server/audit_signer.h"

#include "absl/time/clock.h"
#include "ca/profiles.h"
#include "common/hex.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "server/hsm_setup.h"
#include "server/service_certificate.h"

namespace keyline::server {
namespace {

constexpr absl::Duration kRenewBefore = absl::Hours(24 * 90);

}  // namespace

absl::Status EnsureAuditSigner(const Config& config, hsm::Token& token, const CaSet& cas,
                               store::CertificateRepository& certificates) {
  KEYLINE_ASSIGN_OR_RETURN(auto key, FindOrGenerateKey(token, kAuditSignerKeyLabel,
                                                       hsm::KeyAlgorithm::kEcdsaP256));
  auto current = certificates.FindLatestByProfile("audit-signer");
  if (current.ok() && current->not_after - absl::Now() > kRenewBefore) return absl::OkStatus();
  if (!current.ok() && !absl::IsNotFound(current.status())) return current.status();

  KEYLINE_ASSIGN_OR_RETURN(
      const IssuedServiceCertificate issued,
      IssueServiceCertificate(config.profiles, *cas.root, *key, ca::AuditSignerTemplate,
                              {"audit-signer", kAuditSignerSubject, "system:init",
                               "audit.signer.issued", {{"key_label", kAuditSignerKeyLabel}}},
                              certificates));
  LogEvent(spdlog::level::info, "audit.signer.issued", {{"serial", HexEncode(issued.serial)}});
  return absl::OkStatus();
}

absl::StatusOr<AuditSigner> LoadAuditSigner(hsm::Token& token,
                                            store::CertificateRepository& certificates) {
  auto certificate = certificates.FindLatestByProfile("audit-signer");
  if (absl::IsNotFound(certificate.status())) {
    return absl::FailedPreconditionError("no audit signer yet: run `keyline-server init`");
  }
  if (!certificate.ok()) return certificate.status();
  KEYLINE_ASSIGN_OR_RETURN(auto key, FindServiceKey(token, kAuditSignerKeyLabel));
  return AuditSigner{std::move(key), certificate->der};
}

}  // namespace keyline::server
