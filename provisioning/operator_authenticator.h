// Who is calling, and may they? Every RPC handler starts here.
//
// The TLS layer has already verified the client's chain up to Keyline's root. This class then
// requires that the leaf was issued by the operator CA (not a deployment or manufacturer CA: a
// device or attestation certificate never acts as an operator), carries clientAuth and exactly
// one operator URI (urn:keyline:role:<role>:<name>), and that the role is allowed for the RPC
// (provisioning/rpc_roles.h).
//
// Parsed identities are cached by certificate, so a connection's many calls parse it once.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <grpcpp/security/auth_context.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ca/operator_identity.h"
#include "common/openssl_ptr.h"

namespace keyline::provisioning {

struct Caller {
  ca::OperatorIdentity identity;
  std::string uri;  // urn:keyline:role:<role>:<name>, recorded as the audit actor
};

class OperatorAuthenticator {
 public:
  // Keeps its own reference to the operator CA certificate.
  explicit OperatorAuthenticator(const X509* operator_ca_certificate);

  // Unauthenticated when the caller presented no client certificate; PermissionDenied when the
  // certificate is not an operator certificate of this Keyline or its role may not call `method`.
  [[nodiscard]] absl::StatusOr<Caller> Authorize(const grpc::AuthContext* context,
                                                 std::string_view method);

  // Identity of a PEM client certificate, without the role check (exposed for tests).
  [[nodiscard]] absl::StatusOr<Caller> Identify(const std::string& certificate_pem);

 private:
  absl::StatusOr<Caller> ParseOperatorCertificate(const std::string& certificate_pem) const;

  X509Ptr operator_ca_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, Caller> cache_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace keyline::provisioning
