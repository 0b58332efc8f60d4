#include "provisioning/caller_authenticator.h"

#include <grpc/grpc_security_constants.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/profiles.h"
#include "ca/serial_number.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "provisioning/rpc_roles.h"

namespace keyline::provisioning {
namespace {

// Enough for every operator and many devices; on overflow the cache starts over.
constexpr size_t kMaxCachedIdentities = 16384;

absl::Status NotOurs(std::string_view why) {
  return absl::PermissionDeniedError(absl::StrCat(
      "client certificate is not a Keyline operator or device certificate: ", AsAbsl(why)));
}

std::vector<std::string> UriNames(X509* leaf) {
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> uris;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.ia5)),
                      static_cast<size_t>(ASN1_STRING_length(name->d.ia5)));
  }
  return uris;
}

CallerKind KindOf(ca::OperatorRole role) {
  switch (role) {
    case ca::OperatorRole::kAdmin:
      return CallerKind::kAdmin;
    case ca::OperatorRole::kFactory:
      return CallerKind::kFactory;
    case ca::OperatorRole::kGateway:
      return CallerKind::kGateway;
  }
  return CallerKind::kAnonymous;
}

}  // namespace

std::string_view CallerKindName(CallerKind kind) {
  switch (kind) {
    case CallerKind::kAnonymous:
      return "anonymous";
    case CallerKind::kDevice:
      return "device";
    case CallerKind::kAdmin:
      return "admin";
    case CallerKind::kFactory:
      return "factory";
    case CallerKind::kGateway:
      return "gateway";
  }
  return "unknown";
}

CallerAuthenticator::CallerAuthenticator(const X509* operator_ca,
                                         const std::vector<DeploymentCa>& deployment_cas)
    : operator_ca_(X509_dup(const_cast<X509*>(operator_ca))) {
  for (const DeploymentCa& ca : deployment_cas) AddDeploymentCa(ca);
}

void CallerAuthenticator::AddDeploymentCa(const DeploymentCa& ca) {
  absl::MutexLock lock(&cas_mutex_);
  deployment_cas_.emplace_back(ca.deployment, X509Ptr(X509_dup(const_cast<X509*>(ca.certificate))));
}

absl::StatusOr<Caller> CallerAuthenticator::ParseCertificate(
    const std::string& certificate_pem) const {
  BioPtr bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!leaf) return absl::UnauthenticatedError("client certificate cannot be parsed");
  if (X509_check_purpose(leaf.get(), X509_PURPOSE_SSL_CLIENT, 0) != 1) {
    ERR_clear_error();
    return NotOurs("not a TLS client certificate");
  }
  const std::vector<std::string> uris = UriNames(leaf.get());
  if (uris.size() != 1) return NotOurs("expected exactly one URI name");
  Caller caller;
  caller.uri = uris.front();
  caller.certificate_serial = ca::SerialOf(leaf.get());
  caller.certificate_not_after = ca::NotAfterOf(leaf.get());

  // The chain was verified during the handshake; these pin the issuer to the right CA.
  if (X509_check_issued(operator_ca_.get(), leaf.get()) == X509_V_OK) {
    auto identity = ca::ParseOperatorUri(caller.uri);
    if (!identity.ok()) return NotOurs(AsStd(identity.status().message()));
    caller.kind = KindOf(identity->role);
    caller.name = identity->name;
    return caller;
  }
  absl::ReaderMutexLock lock(&cas_mutex_);
  for (const auto& [deployment, deployment_ca] : deployment_cas_) {
    if (X509_check_issued(deployment_ca.get(), leaf.get()) != X509_V_OK) continue;
    const std::string prefix = ca::DeviceUri(deployment, "");
    if (!absl::StartsWith(caller.uri, prefix) || caller.uri.size() == prefix.size()) {
      return NotOurs("device certificate without a device URI of its deployment");
    }
    caller.kind = CallerKind::kDevice;
    caller.deployment = deployment;
    caller.device_serial = caller.uri.substr(prefix.size());
    return caller;
  }
  return NotOurs("not issued by the operator CA or a deployment CA");
}

absl::Status CheckCurrent(const Caller& caller, absl::Time now,
                          const RevokedCertificateCheck& revoked) {
  if (caller.kind == CallerKind::kAnonymous) return absl::OkStatus();
  if (caller.certificate_not_after < now) {
    return absl::UnauthenticatedError(absl::StrCat(
        "client certificate expired at ",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", caller.certificate_not_after, absl::UTCTimeZone()),
        " (the connection outlived it)"));
  }
  if (caller.kind != CallerKind::kDevice && revoked && revoked(caller.certificate_serial)) {
    return absl::UnauthenticatedError("client certificate is revoked");
  }
  return absl::OkStatus();
}

void CallerAuthenticator::SetRevokedCheck(RevokedCertificateCheck revoked) {
  revoked_ = std::move(revoked);
}

absl::StatusOr<Caller> CallerAuthenticator::Identify(const std::string& certificate_pem) {
  if (certificate_pem.empty()) return Caller{};
  std::optional<Caller> caller;
  {
    absl::MutexLock lock(&mutex_);
    if (auto it = cache_.find(certificate_pem); it != cache_.end()) caller = it->second;
  }
  if (!caller) {
    auto parsed = ParseCertificate(certificate_pem);
    if (!parsed.ok()) return parsed.status();
    caller = *std::move(parsed);
    absl::MutexLock lock(&mutex_);
    if (cache_.size() >= kMaxCachedIdentities) cache_.clear();
    cache_.emplace(certificate_pem, *caller);
  }
  if (absl::Status status = CheckCurrent(*caller, absl::Now(), revoked_); !status.ok()) {
    return status;
  }
  return *std::move(caller);
}

absl::StatusOr<Caller> CallerAuthenticator::Authorize(const grpc::AuthContext* context,
                                                      std::string_view method) {
  const auto values = context == nullptr
                          ? std::vector<grpc::string_ref>{}
                          : context->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  auto caller =
      Identify(values.empty() ? "" : std::string(values.front().data(), values.front().size()));
  if (!caller.ok()) return caller.status();

  const auto& allowed = AllowedCallers(method);
  if (std::find(allowed.begin(), allowed.end(), caller->kind) != allowed.end()) return caller;
  if (caller->kind == CallerKind::kAnonymous) {
    return absl::UnauthenticatedError(
        absl::StrCat("no client certificate: ", AsAbsl(method),
                     " needs mTLS with an operator or device certificate"));
  }
  const std::string who = caller->kind == CallerKind::kDevice
                              ? "devices"
                              : absl::StrCat("role ", AsAbsl(CallerKindName(caller->kind)));
  return absl::PermissionDeniedError(absl::StrCat(who, " may not call ", AsAbsl(method)));
}

}  // namespace keyline::provisioning
