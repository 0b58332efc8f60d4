#include "cli/testing/test_pki.h"

#include <cstdlib>

#include "absl/time/clock.h"
#include "ca/certificate_builder.h"
#include "ca/certificate_der.h"
#include "ca/serial_number.h"

namespace keyline::cli::testing {
namespace {

// Tests cannot continue without their certificates.
template <typename T>
T OrDie(absl::StatusOr<T> value) {
  if (!value.ok()) std::abort();
  return *std::move(value);
}

}  // namespace

TestPki::TestPki() {
  settings_.organization = "Test Hospital";
  root_.key = ca::testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP384);
  root_.der = Build(ca::RootTemplate(Context(root_.key->public_key(), "")), nullptr);
  root_.certificate = OrDie(ca::ParseCertificateDer(root_.der));
}

std::string TestPki::RootPem() const { return ca::DerToPem(root_.der); }

ca::IssueContext TestPki::Context(EVP_PKEY* key, std::string issuer) {
  keys_.push_back(OrDie(ca::PublicKeyInfo::FromKey(key)));
  return ca::IssueContext{settings_, &keys_.back(), OrDie(ca::GenerateSerial()), absl::Now(),
                          std::move(issuer)};
}

std::string TestPki::Build(const ca::CertificateTemplate& request, const TestCa* issuer) {
  const hsm::SigningKey& key = issuer == nullptr ? *root_.key : *issuer->key;
  return OrDie(ca::BuildCertificate(request,
                                    issuer == nullptr ? nullptr : issuer->certificate.get(), key))
      .der;
}

TestCa TestPki::IssueCa(ca::Profile profile, std::string_view label) {
  TestCa issued;
  issued.key = ca::testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  issued.der =
      Build(ca::IntermediateCaTemplate(Context(issued.key->public_key(), "root"), profile, label),
            &root_);
  issued.certificate = OrDie(ca::ParseCertificateDer(issued.der));
  return issued;
}

std::string TestPki::IssueAuditSigner(const TestCa& issuer, EVP_PKEY* key) {
  return Build(ca::AuditSignerTemplate(Context(key, "root")), &issuer);
}

std::string TestPki::IssueAttestation(const TestCa& issuer, EVP_PKEY* key, std::string_view serial,
                                      std::string_view model) {
  return Build(ca::AttestationTemplate(Context(key, "manufacturer/test"), serial, model), &issuer);
}

}  // namespace keyline::cli::testing
