#include "server/ocsp_signers.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/hex.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "server/hsm_setup.h"
#include "server/service_certificate.h"

namespace keyline::server {
namespace {

constexpr char kProfile[] = "ocsp-signer";

absl::StatusOr<OcspSigner> FromStored(hsm::Token& token, const ca::IssuingCa& ca,
                                      const store::CertificateRecord& certificate) {
  KEYLINE_ASSIGN_OR_RETURN(std::unique_ptr<hsm::SigningKey> key,
                           FindServiceKey(token, certificate.subject));
  std::shared_ptr<const hsm::SigningKey> shared_key(std::move(key));
  KEYLINE_ASSIGN_OR_RETURN(
      std::shared_ptr<const ocsp::OcspIssuer> issuer,
      ocsp::OcspIssuer::New(ca.certificate_der(), certificate.der, std::move(shared_key)));
  return OcspSigner{std::move(issuer), certificate.not_after};
}

}  // namespace

absl::StatusOr<OcspSigner> EnsureOcspSigner(const ca::ProfileSettings& profiles,
                                            hsm::Token& token, const ca::IssuingCa& ca,
                                            store::CertificateRepository& certificates,
                                            absl::Duration renew_before) {
  const absl::Time now = absl::Now();
  absl::StatusOr<store::CertificateRecord> current =
      certificates.FindLatestByProfile(kProfile, ca.id());
  if (current.ok() && current->not_after - now > renew_before) {
    absl::StatusOr<OcspSigner> signer = FromStored(token, ca, *current);
    if (signer.ok()) return signer;
    // A certificate whose key is gone from the token (another HSM, a wiped token) is replaced.
    LogEvent(spdlog::level::warn, "ocsp.signer.unusable",
             {{"ca", ca.name()}, {"error", std::string(signer.status().message())}});
  } else if (!current.ok() && !absl::IsNotFound(current.status())) {
    return current.status();
  }

  // Replicas renewing a signer in the same second must not share a label.
  KEYLINE_ASSIGN_OR_RETURN(const std::string label,
                           UniqueKeyLabel(absl::StrCat("keyline-ocsp-signer/", ca.name(), "/",
                                                       absl::ToUnixSeconds(now))));
  KEYLINE_ASSIGN_OR_RETURN(std::unique_ptr<hsm::SigningKey> key,
                           FindOrGenerateKey(token, label, hsm::KeyAlgorithm::kEcdsaP256));
  KEYLINE_ASSIGN_OR_RETURN(
      const IssuedServiceCertificate issued,
      IssueServiceCertificate(
          profiles, ca, *key,
          [&ca](const ca::IssueContext& context) {
            return ca::OcspSignerTemplate(context, ca.name());
          },
          {kProfile, label, "system:ocsp", "ocsp.signer.issued",
           {{"ca", ca.name()}, {"key_label", label}}},
          certificates));
  LogEvent(spdlog::level::info, "ocsp.signer.issued",
           {{"ca", ca.name()}, {"serial", HexEncode(issued.serial)}});
  std::shared_ptr<const hsm::SigningKey> shared_key(std::move(key));
  KEYLINE_ASSIGN_OR_RETURN(
      std::shared_ptr<const ocsp::OcspIssuer> issuer,
      ocsp::OcspIssuer::New(ca.certificate_der(), issued.built.der, shared_key));
  return OcspSigner{std::move(issuer), issued.built.not_after};
}

}  // namespace keyline::server
