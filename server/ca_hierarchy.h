// Keyline's CA hierarchy: a root, the operator CA, one CA per deployment and one per Keyline-hosted
// manufacturer, all under the root, every key generated in and kept by the HSM.
//
//   root (P-384) ─┬─ operators            (operator and server TLS certificates)
//                 ├─ deployment/<name>    (device certificates)
//                 └─ manufacturer/<name>  (attestation certificates)
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/issuing_ca.h"
#include "ca/profiles.h"
#include "hsm/token.h"
#include "server/config.h"
#include "store/ca_repository.h"

namespace keyline::server {

struct CaSet {
  std::unique_ptr<ca::IssuingCa> root;
  std::unique_ptr<ca::IssuingCa> operator_ca;
  std::map<std::string, std::unique_ptr<ca::IssuingCa>> deployments;    // by deployment name
  std::map<std::string, std::unique_ptr<ca::IssuingCa>> manufacturers;  // by manufacturer name
  // Rotated-out deployment CAs that have not expired: they issue nothing, but keep signing CRLs
  // and OCSP for the certificates they issued.
  struct Retired {
    std::string deployment;
    std::unique_ptr<ca::IssuingCa> ca;
  };
  std::vector<Retired> retired;

  const std::string& root_der() const { return root->certificate_der(); }
  // Every loaded CA, retired ones included.
  std::vector<const ca::IssuingCa*> All() const;
};

// What a new CA is: its row's name and kind, the profile and CN suffix of its certificate.
struct CaSpec {
  std::string name;  // "root", "operators", "deployment/<d>", "manufacturer/<m>"
  std::string kind;  // certificate_authorities.kind
  ca::Profile profile;
  std::string label;  // the CN suffix: deployment or manufacturer name
  std::optional<std::string> deployment;
  hsm::KeyAlgorithm algorithm;
};

struct NewCa {
  store::CaRecord record;  // not stored yet; id unset
  std::string serial;      // the certificate's serial, raw bytes
};

// A CA's key and its certificate, signed by `parent` (null for the root), as a row ready to store.
// The key's label is the CA's name ("keyline-ca-deployment-icu"), and a key an interrupted earlier
// attempt left under it is reused: init's CAs, made by one process. With `unique_key_label` (a
// rotation, which replicas may run at the same moment) a random suffix is added and a new key is
// always made.
[[nodiscard]] absl::StatusOr<NewCa> MakeCa(const Config& config, hsm::Token& token,
                                           const CaSpec& spec, const store::CaRecord* parent_record,
                                           const ca::IssuingCa* parent,
                                           bool unique_key_label = false);

// One stored CA with its chain (parents looked up in `by_id`) and its HSM key.
[[nodiscard]] absl::StatusOr<std::unique_ptr<ca::IssuingCa>> LoadCa(
    hsm::Token& token, const store::CaRecord& record,
    const std::map<int32_t, store::CaRecord>& by_id);

// Creates whatever part of the hierarchy the configuration names and the database lacks:
// the key in the HSM (reused if a previous, interrupted init already made it), the certificate,
// and the CA row with its audit event. Existing CAs are left alone, so init can run again.
[[nodiscard]] absl::Status EnsureCaHierarchy(const Config& config, hsm::Token& token,
                                             store::CaRepository& repository);

// Whether keyline-server loads this CA: active, or retired (rotated out) and not yet expired, so
// that it still answers for the certificates it issued.
bool IsLoadedCa(const store::CaRecord& record, absl::Time now);

// Loads every active CA, and every retired one not yet expired, with its chain and its HSM key.
// FailedPrecondition when the root or the operator CA is missing (run init) or a key is not on the
// token.
[[nodiscard]] absl::StatusOr<CaSet> LoadCaSet(hsm::Token& token,
                                              store::CaRepository& repository);

}  // namespace keyline::server
