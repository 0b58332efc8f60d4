// An in-memory PKI for provisioning's unit tests: a root, an operator CA, a deployment CA and a
// manufacturer CA with software keys, and helpers that issue leaves of each profile.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "ca/issuing_ca.h"
#include "ca/profiles.h"
#include "ca/testing/software_signing_key.h"

namespace keyline::provisioning::testing {

struct Leaf {
  std::string der;
  std::string pem;
  std::unique_ptr<ca::testing::SoftwareSigningKey> key;
};

class TestPki {
 public:
  TestPki();

  ca::ProfileSettings settings;
  std::unique_ptr<ca::IssuingCa> root;
  std::unique_ptr<ca::IssuingCa> operator_ca;
  std::unique_ptr<ca::IssuingCa> deployment_ca;  // deployment "default"
  std::unique_ptr<ca::IssuingCa> manufacturer_ca;

  Leaf Operator(ca::OperatorRole role, const std::string& name);
  Leaf Device(const std::string& serial);
  Leaf Attestation(const std::string& serial, absl::Duration validity = absl::Hours(24));

 private:
  std::unique_ptr<ca::IssuingCa> Intermediate(ca::Profile profile, const std::string& name,
                                              const std::string& label);
  Leaf Issue(const ca::IssuingCa& issuer,
             const std::function<ca::CertificateTemplate(const ca::IssueContext&)>& make);
};

}  // namespace keyline::provisioning::testing
