// A CA that can sign: its certificate, its chain up to the root, and its key in the HSM.
// Thread-safe: Issue may be called from many threads at once (the HSM key is, and the
// certificate is only read).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/certificate_builder.h"
#include "ca/certificate_template.h"
#include "common/openssl_ptr.h"
#include "hsm/signing_key.h"

namespace keyline::ca {

class IssuingCa {
 public:
  // `chain_der` is this CA's certificate followed by its issuers up to and including the root.
  // FailedPrecondition when the key does not match the certificate or the certificate is not a CA.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<IssuingCa>> Create(
      std::string name, int32_t id, std::vector<std::string> chain_der,
      std::unique_ptr<hsm::SigningKey> key);

  const std::string& name() const { return name_; }
  int32_t id() const { return id_; }
  const X509* certificate() const { return certificate_.get(); }
  const std::string& certificate_der() const { return chain_der_.front(); }
  // This CA's certificate first, the root last.
  const std::vector<std::string>& chain_der() const { return chain_der_; }
  const hsm::SigningKey& key() const { return *key_; }

  // Builds and signs a certificate from the template.
  [[nodiscard]] absl::StatusOr<BuiltCertificate> Issue(const CertificateTemplate& request) const;

 private:
  IssuingCa(std::string name, int32_t id, std::vector<std::string> chain_der, X509Ptr certificate,
            std::unique_ptr<hsm::SigningKey> key);

  std::string name_;
  int32_t id_;
  std::vector<std::string> chain_der_;
  X509Ptr certificate_;
  std::unique_ptr<hsm::SigningKey> key_;
};

}  // namespace keyline::ca
