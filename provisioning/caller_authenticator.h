// Who is calling, and may they? Every RPC handler starts here.
//
// The TLS layer has already verified the client's chain up to Keyline's root (or seen no client
// certificate at all). This class then decides what the caller is:
//   - no client certificate: an anonymous caller (a device on first contact);
//   - a leaf issued by the operator CA with clientAuth and one operator URI
//     (urn:keyline:role:<role>:<name>): an operator with that role;
//   - a leaf issued by a deployment CA with clientAuth and one device URI
//     (urn:keyline:<deployment>:device:<serial>) of that same deployment: a device;
//   - anything else (an attestation certificate, say): refused.
// and whether that kind of caller may call the RPC (provisioning/rpc_roles.h).
//
// Parsed identities are cached by certificate, so a connection's many calls parse it once; every
// call then checks that the certificate is still current (CheckCurrent): TLS checks it only at
// the handshake, and a connection stays open for as long as its client likes. A revoked operator
// certificate is refused here; a device's revoked certificate is refused by the handlers it may
// call (Renew: only a fresh attestation renews after a revocation).
// Thread-safe.
#pragma once

#include <grpcpp/security/auth_context.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ca/operator_identity.h"
#include "common/openssl_ptr.h"

namespace keyline::provisioning {

enum class CallerKind { kAnonymous, kDevice, kAdmin, kFactory, kGateway };

std::string_view CallerKindName(CallerKind kind);  // "anonymous", "device", "admin", ...

struct Caller {
  CallerKind kind = CallerKind::kAnonymous;
  // The audit actor: "anonymous", urn:keyline:role:<role>:<name> or
  // urn:keyline:<deployment>:device:<serial>.
  std::string uri = "anonymous";
  std::string name;           // operators: their name
  std::string deployment;     // devices: their deployment
  std::string device_serial;  // devices: their serial
  std::string certificate_serial;  // devices and operators: the client certificate's serial
  absl::Time certificate_not_after = absl::InfiniteFuture();  // and its notAfter
};

// Whether the certificate with this raw serial is known to be revoked (the status index, which
// every replica keeps current within a second).
using RevokedCertificateCheck = std::function<bool(std::string_view serial)>;

// Unauthenticated when `caller`'s certificate expired before `now`, or when it is an operator's
// and `revoked` says it is revoked (`revoked` may be empty: no revocation check).
[[nodiscard]] absl::Status CheckCurrent(const Caller& caller, absl::Time now,
                                        const RevokedCertificateCheck& revoked);

struct DeploymentCa {
  std::string deployment;
  const X509* certificate;  // copied by the authenticator
};

class CallerAuthenticator {
 public:
  CallerAuthenticator(const X509* operator_ca, const std::vector<DeploymentCa>& deployment_cas);

  // Unauthenticated when the RPC needs a client certificate and there is none; PermissionDenied
  // when the certificate is not an operator or device certificate of this Keyline, or its kind
  // may not call `method`.
  [[nodiscard]] absl::StatusOr<Caller> Authorize(const grpc::AuthContext* context,
                                                 std::string_view method);

  // Device certificates of `ca` identify devices of `deployment` from now on (a rotated-in
  // deployment CA; the CAs given at construction stay accepted).
  void AddDeploymentCa(const DeploymentCa& ca);

  // Operator certificates are checked against `revoked` from now on (keyline-server sets it once
  // its status index is loaded, before serving).
  void SetRevokedCheck(RevokedCertificateCheck revoked);

  // The caller behind a PEM client certificate ("" for none), without the method check; the
  // certificate must be current (CheckCurrent).
  [[nodiscard]] absl::StatusOr<Caller> Identify(const std::string& certificate_pem);

 private:
  absl::StatusOr<Caller> ParseCertificate(const std::string& certificate_pem) const;

  X509Ptr operator_ca_;
  RevokedCertificateCheck revoked_;
  mutable absl::Mutex cas_mutex_;
  std::vector<std::pair<std::string, X509Ptr>> deployment_cas_ ABSL_GUARDED_BY(cas_mutex_);
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, Caller> cache_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace keyline::provisioning
