// Deployment CA rotation (`keylinectl ca rotate --deployment D`): a new key in
// the HSM, its certificate from the root, and in one transaction the old CA
// retired and the new one active, with a "ca.rotated" audit event.
//
// Names: the n-th CA of deployment D is "deployment/D:n" (the first keeps
// "deployment/D"; ':' can not appear in a deployment name, so names and the CRL
// files derived from them never collide), its certificate's CN "<organization>
// Deployment CA D G<n>", so relying parties that match issuers by name tell the
// two CAs apart.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ca/issuing_ca.h"
#include "hsm/token.h"
#include "server/config.h"
#include "store/ca_repository.h"

namespace keyline::server {

struct RotatedCa {
  store::CaRecord active;   // the new CA, stored
  store::CaRecord retired;  // the CA it replaced, as stored now
};

// Rotates `deployment`'s CA. NotFound when the deployment has no active CA;
// FailedPrecondition when another rotation of it won meanwhile (nothing changed
// then). `actor` goes in the audit.
[[nodiscard]] absl::StatusOr<RotatedCa> RotateDeploymentCa(const Config& config, hsm::Token& token,
                                                           const ca::IssuingCa& root,
                                                           store::CaRepository& repository,
                                                           std::string_view deployment,
                                                           const std::string& actor);

}  // namespace keyline::server
