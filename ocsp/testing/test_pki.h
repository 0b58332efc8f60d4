// An in-memory PKI for tests of ocsp/ and of the HTTP front door: a root (P-384), a deployment CA
// under it (P-256), a delegated OCSP signer issued by the CA (ocsp-signer profile) and device
// leaves, all built with ca/ and software keys. Not for production.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/profiles.h"
#include "ca/public_key_info.h"
#include "ca/testing/software_signing_key.h"
#include "common/openssl_ptr.h"
#include "ocsp/ocsp_issuer.h"

namespace keyline::ocsp::testing {

struct TestLeaf {
  std::string der;
  std::string pem;
  std::string serial;  // big-endian magnitude
  X509Ptr certificate;
};

class TestPki {
 public:
  // Certificates valid from `now` - 5 minutes; the signer key uses `signer_algorithm`.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TestPki>> Create(
      hsm::KeyAlgorithm signer_algorithm = hsm::KeyAlgorithm::kEcdsaP256,
      std::string ca_label = "default", absl::Time now = absl::Now());

  [[nodiscard]] absl::StatusOr<TestLeaf> IssueLeaf(std::string device_serial);

  // A new signer certificate and key for the same CA (signer rotation), as a new OcspIssuer.
  [[nodiscard]] absl::StatusOr<std::shared_ptr<const OcspIssuer>> NewSigner();

  const std::shared_ptr<const OcspIssuer>& issuer() const { return issuer_; }
  const std::string& root_der() const { return root_der_; }
  const std::string& ca_der() const { return ca_der_; }
  const std::string& signer_der() const { return signer_der_; }
  X509* root() const { return root_.get(); }
  X509* ca() const { return ca_.get(); }
  X509* signer() const { return signer_.get(); }
  const hsm::SigningKey& ca_key() const { return *ca_key_; }
  const std::shared_ptr<const hsm::SigningKey>& signer_key() const { return signer_key_; }
  std::string ca_pem() const;
  std::string chain_pem() const;  // root then CA: a CAfile that verifies the signer

 private:
  TestPki() = default;
  const ca::PublicKeyInfo* Remember(ca::PublicKeyInfo info);

  ca::ProfileSettings settings_;
  absl::Time now_;
  std::string ca_label_;
  std::deque<ca::PublicKeyInfo> key_infos_;
  std::unique_ptr<ca::testing::SoftwareSigningKey> root_key_;
  std::unique_ptr<ca::testing::SoftwareSigningKey> ca_key_;
  std::shared_ptr<const hsm::SigningKey> signer_key_;
  std::string root_der_;
  std::string ca_der_;
  std::string signer_der_;
  X509Ptr root_;
  X509Ptr ca_;
  X509Ptr signer_;
  std::shared_ptr<const OcspIssuer> issuer_;
};

}  // namespace keyline::ocsp::testing
