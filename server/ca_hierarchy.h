// Keyline's CA hierarchy: a root, the operator CA, one CA per deployment and one per Keyline-hosted
// manufacturer, all under the root, every key generated in and kept by the HSM.
//
//   root (P-384) ─┬─ operators            (operator and server TLS certificates)
//                 ├─ deployment/<name>    (device certificates)
//                 └─ manufacturer/<name>  (attestation certificates)
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ca/issuing_ca.h"
#include "hsm/token.h"
#include "server/config.h"
#include "store/ca_repository.h"

namespace keyline::server {

struct CaSet {
  std::unique_ptr<ca::IssuingCa> root;
  std::unique_ptr<ca::IssuingCa> operator_ca;
  std::map<std::string, std::unique_ptr<ca::IssuingCa>> deployments;    // by deployment name
  std::map<std::string, std::unique_ptr<ca::IssuingCa>> manufacturers;  // by manufacturer name

  const std::string& root_der() const { return root->certificate_der(); }
  // Every loaded CA.
  std::vector<const ca::IssuingCa*> All() const;
};

// Creates whatever part of the hierarchy the configuration names and the database lacks:
// the key in the HSM (reused if a previous, interrupted init already made it), the certificate,
// and the CA row with its audit event. Existing CAs are left alone, so init can run again.
[[nodiscard]] absl::Status EnsureCaHierarchy(const Config& config, hsm::Token& token,
                                             store::CaRepository& repository);

// Loads every active CA with its chain and its HSM key. FailedPrecondition when the root or the
// operator CA is missing (run init) or a key is not on the token.
[[nodiscard]] absl::StatusOr<CaSet> LoadCaSet(hsm::Token& token,
                                              store::CaRepository& repository);

}  // namespace keyline::server
