#include "server/service_certificate.h"

#include "absl/time/clock.h"
#include "ca/public_key_info.h"
#include "ca/serial_number.h"
#include "common/hex.h"
#include "common/status_macros.h"

namespace keyline::server {

absl::StatusOr<IssuedServiceCertificate> IssueServiceCertificate(
    const ca::ProfileSettings& profiles, const ca::IssuingCa& issuer, const hsm::SigningKey& key,
    absl::FunctionRef<ca::CertificateTemplate(const ca::IssueContext&)> make_template,
    const ServiceCertificateRecord& record, store::CertificateRepository& certificates) {
  KEYLINE_ASSIGN_OR_RETURN(const ca::PublicKeyInfo public_key,
                           ca::PublicKeyInfo::FromKey(key.public_key()));
  KEYLINE_ASSIGN_OR_RETURN(const std::string serial, ca::GenerateSerial());
  const ca::IssueContext context{profiles, &public_key, serial, absl::Now(), issuer.name()};
  KEYLINE_ASSIGN_OR_RETURN(ca::BuiltCertificate built, issuer.Issue(make_template(context)));
  store::IssuanceWrite write;
  write.certificate.serial = serial;
  write.certificate.issuer_id = issuer.id();
  write.certificate.profile = record.profile;
  write.certificate.subject = record.subject;
  write.certificate.not_before = built.not_before;
  write.certificate.not_after = built.not_after;
  write.certificate.der = built.der;
  write.audit.actor = record.actor;
  write.audit.action = record.action;
  write.audit.target = HexEncode(serial);
  write.audit.details = record.details;
  KEYLINE_RETURN_IF_ERROR(certificates.InsertWithAudit(write));
  return IssuedServiceCertificate{serial, std::move(built)};
}

}  // namespace keyline::server
