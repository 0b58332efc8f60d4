#include "provisioning/attestation_chain.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "common/absl_compat.h"
#include "common/der_encoding.h"
#include "store/sha256.h"

namespace keyline::provisioning {

absl::StatusOr<AttestationChain> ParseAttestationChain(
    const std::vector<std::string_view>& certificates, std::string_view field,
    ca::CertificateCache* cache) {
  const auto problem = [field](size_t index, std::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(field), "[", index, "]: ", AsAbsl(what)));
  };
  if (certificates.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": empty"));
  }
  if (certificates.size() > kMaxChainLength) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": ", certificates.size(),
                                                   " certificates, at most ", kMaxChainLength));
  }
  AttestationChain chain;
  for (size_t i = 0; i < certificates.size(); ++i) {
    if (certificates[i].size() > kMaxCertificateBytes) {
      return problem(i, absl::StrCat(certificates[i].size(), " bytes, larger than the limit of ",
                                     kMaxCertificateBytes));
    }
    auto certificate =
        cache != nullptr ? cache->Parse(certificates[i]) : ca::ParseCertificateDer(certificates[i]);
    if (!certificate.ok()) return problem(i, "not a DER certificate");
    chain.der.emplace_back(certificates[i]);
    if (i == 0) {
      chain.leaf = *std::move(certificate);
    } else {
      chain.intermediates.push_back(*std::move(certificate));
    }
  }
  return chain;
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
