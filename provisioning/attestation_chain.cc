#include "provisioning/attestation_chain.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "common/absl_compat.h"
#include "common/der_encoding.h"
#include "common/status_macros.h"
#include "store/sha256.h"

namespace keyline::provisioning {

namespace {

absl::Status ElementProblem(std::string_view field, size_t index, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), "[", index, "]: ", AsAbsl(what)));
}

// The limits both readers apply before looking inside a certificate.
absl::Status CheckChainLimits(const std::vector<std::string_view>& certificates,
                              std::string_view field) {
  if (certificates.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": empty"));
  }
  if (certificates.size() > kMaxChainLength) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": ", certificates.size(),
                                                   " certificates, at most ", kMaxChainLength));
  }
  for (size_t i = 0; i < certificates.size(); ++i) {
    if (certificates[i].size() > kMaxCertificateBytes) {
      return ElementProblem(
          field, i,
          absl::StrCat(certificates[i].size(), " bytes, larger than the limit of ",
                       kMaxCertificateBytes));
    }
  }
  return absl::OkStatus();
}

// X509_verify_cert's verdict on one certificate's dates at `at` (whole seconds, as it compares):
// valid from notBefore included to notAfter excluded (X509_cmp_time counts "equal" as "earlier").
absl::Status CheckValidity(absl::Time not_before, absl::Time not_after, absl::Time at,
                           std::string_view field) {
  int error = X509_V_OK;
  if (at < not_before) error = X509_V_ERR_CERT_NOT_YET_VALID;
  if (at >= not_after) error = X509_V_ERR_CERT_HAS_EXPIRED;
  if (error == X509_V_OK) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(AsAbsl(field), ": ", X509_verify_cert_error_string(error)));
}

}  // namespace

absl::StatusOr<AttestationChain> ParseAttestationChain(
    const std::vector<std::string_view>& certificates, std::string_view field,
    ca::CertificateCache* cache) {
  KEYLINE_RETURN_IF_ERROR(CheckChainLimits(certificates, field));
  AttestationChain chain;
  for (size_t i = 0; i < certificates.size(); ++i) {
    auto certificate =
        cache != nullptr ? cache->Parse(certificates[i]) : ca::ParseCertificateDer(certificates[i]);
    if (!certificate.ok()) return ElementProblem(field, i, "not a DER certificate");
    chain.der.emplace_back(certificates[i]);
    if (i == 0) {
      chain.leaf = *std::move(certificate);
    } else {
      chain.intermediates.push_back(*std::move(certificate));
    }
  }
  return chain;
}

absl::StatusOr<std::vector<ca::CertificateOutline>> OutlineAttestationChain(
    const std::vector<std::string_view>& certificates, std::string_view field) {
  KEYLINE_RETURN_IF_ERROR(CheckChainLimits(certificates, field));
  std::vector<ca::CertificateOutline> outlines;
  outlines.reserve(certificates.size());
  for (size_t i = 0; i < certificates.size(); ++i) {
    auto outline = ca::ReadCertificateOutline(certificates[i]);
    if (!outline.ok()) return ElementProblem(field, i, "not a DER certificate");
    outlines.push_back(*std::move(outline));
  }
  return outlines;
}

bool IsRegisteredChain(const std::vector<std::string_view>& certificates,
                       std::string_view registered_leaf,
                       const std::vector<std::string>& registered_intermediates) {
  if (certificates.empty() || certificates.size() != registered_intermediates.size() + 1 ||
      certificates[0] != registered_leaf) {
    return false;
  }
  for (size_t i = 1; i < certificates.size(); ++i) {
    if (certificates[i] != registered_intermediates[i - 1]) return false;
  }
  return true;
}

absl::Status CheckRegisteredChainValidity(const std::vector<ca::CertificateOutline>& chain,
                                          const X509* trust_anchor, absl::Time at,
                                          std::string_view field) {
  const absl::Time second = absl::FromTimeT(absl::ToTimeT(at));
  // From the anchor down to the leaf, the order in which OpenSSL reports the first problem.
  KEYLINE_RETURN_IF_ERROR(
      CheckValidity(ca::NotBeforeOf(trust_anchor), ca::NotAfterOf(trust_anchor), second, field));
  for (auto certificate = chain.rbegin(); certificate != chain.rend(); ++certificate) {
    KEYLINE_RETURN_IF_ERROR(
        CheckValidity(certificate->not_before, certificate->not_after, second, field));
  }
  return absl::OkStatus();
}

absl::Status VerifyAttestationChain(const AttestationChain& chain, const X509* trust_anchor,
                                    absl::Time at, std::string_view field) {
  const auto failed = [field](std::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat(AsAbsl(field), ": ", AsAbsl(why)));
  };
  if (X509_check_ca(chain.leaf.get()) != 0) return failed("the attestation certificate is a CA");
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), const_cast<X509*>(trust_anchor));
  X509StackPtr untrusted(sk_X509_new_null());
  for (const auto& intermediate : chain.intermediates) {
    X509_up_ref(intermediate.get());
    sk_X509_push(untrusted.get(), intermediate.get());
  }
  X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(context.get(), store.get(), chain.leaf.get(), untrusted.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError("attestation: verifier setup failed");
  }
  // The manufacturer's anchor need not be self-signed: vendors hand out intermediates.
  X509_STORE_CTX_set_flags(context.get(), X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
  X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_ANY);
  X509_STORE_CTX_set_time(context.get(), 0, absl::ToTimeT(at));
  if (X509_verify_cert(context.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(context.get());
    ERR_clear_error();
    return failed(X509_verify_cert_error_string(error));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> AttestationKeyHash(const X509* leaf) {
  const X509_PUBKEY* key = X509_get_X509_PUBKEY(leaf);
  auto der = EncodeDer([key](unsigned char** out) { return i2d_X509_PUBKEY(key, out); },
                       "attestation key encoding");
  if (!der.ok()) return der.status();
  return store::Sha256(*der);
}

}  // namespace keyline::provisioning
