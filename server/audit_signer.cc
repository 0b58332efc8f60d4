#include "server/audit_signer.h"

#include "absl/time/clock.h"
#include "ca/certificate_builder.h"
#include "ca/profiles.h"
#include "ca/public_key_info.h"
#include "ca/serial_number.h"
#include "common/hex.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "server/hsm_setup.h"

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

  KEYLINE_ASSIGN_OR_RETURN(const ca::PublicKeyInfo public_key,
                           ca::PublicKeyInfo::FromKey(key->public_key()));
  KEYLINE_ASSIGN_OR_RETURN(const std::string serial, ca::GenerateSerial());
  const ca::IssueContext context{config.profiles, &public_key, serial, absl::Now(),
                                 cas.root->name()};
  KEYLINE_ASSIGN_OR_RETURN(const ca::BuiltCertificate built,
                           cas.root->Issue(ca::AuditSignerTemplate(context)));
  store::IssuanceWrite write;
  write.certificate.serial = serial;
  write.certificate.issuer_id = cas.root->id();
  write.certificate.profile = "audit-signer";
  write.certificate.subject = kAuditSignerSubject;
  write.certificate.not_before = built.not_before;
  write.certificate.not_after = built.not_after;
  write.certificate.der = built.der;
  write.audit.actor = "system:init";
  write.audit.action = "audit.signer.issued";
  write.audit.target = HexEncode(serial);
  write.audit.details = {{"key_label", kAuditSignerKeyLabel}};
  KEYLINE_RETURN_IF_ERROR(certificates.InsertWithAudit(write));
  LogEvent(spdlog::level::info, "audit.signer.issued", {{"serial", HexEncode(serial)}});
  return absl::OkStatus();
}

absl::StatusOr<AuditSigner> LoadAuditSigner(hsm::Token& token,
                                            store::CertificateRepository& certificates) {
  auto certificate = certificates.FindLatestByProfile("audit-signer");
  if (absl::IsNotFound(certificate.status())) {
    return absl::FailedPreconditionError("no audit signer yet: run `keyline-server init`");
  }
  if (!certificate.ok()) return certificate.status();
  KEYLINE_ASSIGN_OR_RETURN(auto key, token.FindSigningKey(kAuditSignerKeyLabel));
  return AuditSigner{std::move(key), certificate->der};
}

}  // namespace keyline::server
