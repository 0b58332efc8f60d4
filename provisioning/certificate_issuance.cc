#include "provisioning/certificate_issuance.h"

#include <future>

#include "absl/time/clock.h"
#include "ca/serial_number.h"
#include "common/hex.h"

namespace keyline::provisioning {
namespace {

constexpr int kMaxAttempts = 3;

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

}  // namespace

void CertificateIssuance::Issue(std::shared_ptr<IssuanceJob> job, Done done) {
  Attempt(std::move(job), std::move(done), 1);
}

absl::StatusOr<SignedCertificate> CertificateIssuance::Sign(const IssuanceJob& job) const {
  auto serial = ca::GenerateSerial();
  if (!serial.ok()) return serial.status();
  const ca::IssueContext context{settings_, &*job.subject_key, *serial, absl::Now(),
                                 job.issuer->name()};
  const ca::CertificateTemplate request = job.make_template(context);
  auto built = job.issuer->Issue(request);
  if (!built.ok()) return built.status();

  SignedCertificate signed_certificate{
      IssuedCertificate{*serial, std::move(built->der), built->not_before, built->not_after,
                        job.issuer},
      store::IssuanceWrite{}};
  const IssuedCertificate& issued = signed_certificate.issued;
  store::IssuanceWrite& write = signed_certificate.write;
  write.certificate.serial = issued.serial;
  write.certificate.issuer_id = job.issuer->id();
  write.certificate.profile = std::string(ca::ProfileName(request.profile));
  write.certificate.subject = job.subject;
  write.certificate.not_before = issued.not_before;
  write.certificate.not_after = issued.not_after;
  write.certificate.der = issued.der;
  write.certificate.device_serial = job.device_serial;
  write.operator_record = job.operator_record;
  write.enrollment = job.enrollment;
  write.audit = job.audit;
  write.audit.target = HexEncode(issued.serial);
  write.audit.details["profile"] = write.certificate.profile;
  write.audit.details["issuer"] = job.issuer->name();
  write.audit.details["subject"] = job.subject;
  write.audit.details["not_after"] = Rfc3339(issued.not_after);
  return signed_certificate;
}

void CertificateIssuance::Attempt(std::shared_ptr<IssuanceJob> job, Done done, int attempt) {
  auto signed_certificate = Sign(*job);
  if (!signed_certificate.ok()) return done(signed_certificate.status());
  writer_.Submit(std::move(signed_certificate->write),
                 [this, job, done = std::move(done), attempt,
                  issued = std::move(signed_certificate->issued)](absl::Status status) mutable {
                   if (absl::IsAlreadyExists(status) && attempt < kMaxAttempts &&
                       !job->enrollment) {
                     // Runs on the writer thread; a collision of 126-bit serials is too rare
                     // to be worth a hop.
                     return Attempt(std::move(job), std::move(done), attempt + 1);
                   }
                   if (!status.ok()) return done(status);
                   if (stored_) stored_(issued);
                   done(std::move(issued));
                 });
}

absl::StatusOr<IssuedCertificate> CertificateIssuance::IssueAndWait(
    std::shared_ptr<IssuanceJob> job) {
  std::promise<absl::StatusOr<IssuedCertificate>> promise;
  auto result = promise.get_future();
  Issue(std::move(job), [&promise](absl::StatusOr<IssuedCertificate> issued) {
    promise.set_value(std::move(issued));
  });
  return result.get();
}

}  // namespace keyline::provisioning
