// A small in-memory PKI for keylinectl's and keyline-station's unit tests: a root, CAs under it
// and leaves, built with the production certificate profiles and software keys (never an HSM).
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "ca/certificate_template.h"
#include "ca/profiles.h"
#include "ca/public_key_info.h"
#include "ca/testing/software_signing_key.h"
#include "common/openssl_ptr.h"

namespace keyline::cli::testing {

struct TestCa {
  std::unique_ptr<ca::testing::SoftwareSigningKey> key;
  std::string der;
  X509Ptr certificate;
};

class TestPki {
 public:
  TestPki();

  const TestCa& root() const { return root_; }
  std::string RootPem() const;

  // An intermediate CA under the root: kManufacturerCa, kDeploymentCa, ...
  TestCa IssueCa(ca::Profile profile, std::string_view label);
  // The audit checkpoint signer certificate for `key`, issued by `issuer` (the root in Keyline).
  std::string IssueAuditSigner(const TestCa& issuer, EVP_PKEY* key);
  // An attestation certificate for `key` from a manufacturer CA.
  std::string IssueAttestation(const TestCa& issuer, EVP_PKEY* key, std::string_view serial,
                               std::string_view model);

 private:
  ca::IssueContext Context(EVP_PKEY* key, std::string issuer);
  std::string Build(const ca::CertificateTemplate& request, const TestCa* issuer);

  ca::ProfileSettings settings_;
  std::deque<ca::PublicKeyInfo> keys_;
  TestCa root_;
};

}  // namespace keyline::cli::testing
