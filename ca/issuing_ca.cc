#include "ca/issuing_ca.h"

#include "absl/strings/str_cat.h"
#include "ca/certificate_builder.h"
#include "ca/certificate_der.h"

namespace keyline::ca {

absl::StatusOr<std::unique_ptr<IssuingCa>> IssuingCa::Create(
    std::string name, int32_t id, std::vector<std::string> chain_der,
    std::unique_ptr<hsm::SigningKey> key) {
  if (chain_der.empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": empty chain"));
  auto certificate = ParseCertificateDer(chain_der.front());
  if (!certificate.ok()) return certificate.status();
  if (X509_check_ca(certificate->get()) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(name, ": certificate is not a CA"));
  }
  if (EVP_PKEY_eq(X509_get0_pubkey(certificate->get()), key->public_key()) != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, ": HSM key does not match the CA certificate"));
  }
  return std::unique_ptr<IssuingCa>(new IssuingCa(std::move(name), id, std::move(chain_der),
                                                  *std::move(certificate), std::move(key)));
}

IssuingCa::IssuingCa(std::string name, int32_t id, std::vector<std::string> chain_der,
                     X509Ptr certificate, std::unique_ptr<hsm::SigningKey> key)
    : name_(std::move(name)),
      id_(id),
      chain_der_(std::move(chain_der)),
      certificate_(std::move(certificate)),
      key_(std::move(key)) {}

absl::StatusOr<BuiltCertificate> IssuingCa::Issue(const CertificateTemplate& request) const {
  return BuildCertificate(request, certificate_.get(), *key_);
}

}  // namespace keyline::ca
