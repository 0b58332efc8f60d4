#include "provisioning/operator_authenticator.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>

#include <grpc/grpc_security_constants.h>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "provisioning/rpc_roles.h"

namespace keyline::provisioning {
namespace {

// Enough for every operator of a large fleet; on overflow the cache starts over.
constexpr size_t kMaxCachedIdentities = 4096;

absl::Status NotAnOperator(std::string_view why) {
  return absl::PermissionDeniedError(
      absl::StrCat("client certificate is not a Keyline operator certificate: ", AsAbsl(why)));
}

}  // namespace

OperatorAuthenticator::OperatorAuthenticator(const X509* operator_ca_certificate)
    : operator_ca_(X509_dup(const_cast<X509*>(operator_ca_certificate))) {}

absl::StatusOr<Caller> OperatorAuthenticator::ParseOperatorCertificate(
    const std::string& certificate_pem) const {
  BioPtr bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!leaf) return absl::UnauthenticatedError("client certificate cannot be parsed");
  // The chain was verified during the handshake; this pins the issuer to the operator CA.
  if (X509_check_issued(operator_ca_.get(), leaf.get()) != X509_V_OK) {
    return NotAnOperator("not issued by the operator CA");
  }
  if (X509_check_purpose(leaf.get(), X509_PURPOSE_SSL_CLIENT, 0) != 1) {
    ERR_clear_error();
    return NotAnOperator("not a TLS client certificate");
  }
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf.get(), NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> uris;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.ia5)),
                      static_cast<size_t>(ASN1_STRING_length(name->d.ia5)));
  }
  if (uris.size() != 1) return NotAnOperator("expected exactly one URI name");
  auto identity = ca::ParseOperatorUri(uris.front());
  if (!identity.ok()) return NotAnOperator(AsStd(identity.status().message()));
  return Caller{*std::move(identity), uris.front()};
}

absl::StatusOr<Caller> OperatorAuthenticator::Identify(const std::string& certificate_pem) {
  {
    absl::MutexLock lock(&mutex_);
    if (auto it = cache_.find(certificate_pem); it != cache_.end()) return it->second;
  }
  auto caller = ParseOperatorCertificate(certificate_pem);
  if (!caller.ok()) return caller.status();
  absl::MutexLock lock(&mutex_);
  if (cache_.size() >= kMaxCachedIdentities) cache_.clear();
  cache_.emplace(certificate_pem, *caller);
  return caller;
}

absl::StatusOr<Caller> OperatorAuthenticator::Authorize(const grpc::AuthContext* context,
                                                        std::string_view method) {
  const auto values = context == nullptr
                          ? std::vector<grpc::string_ref>{}
                          : context->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (values.empty()) {
    return absl::UnauthenticatedError(
        "no client certificate: this RPC needs mTLS with an operator certificate");
  }
  auto caller = Identify(std::string(values.front().data(), values.front().size()));
  if (!caller.ok()) return caller.status();

  const auto& allowed = AllowedRoles(method);
  if (std::find(allowed.begin(), allowed.end(), caller->identity.role) == allowed.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", AsAbsl(ca::OperatorRoleName(caller->identity.role)),
                     " may not call ", AsAbsl(method)));
  }
  return caller;
}

}  // namespace keyline::provisioning
