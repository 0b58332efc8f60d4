#include "ocsp/testing/request_builder.h"

#include <openssl/ocsp.h>

#include "common/der_encoding.h"
#include "common/openssl_error.h"
#include "common/openssl_ptr.h"

namespace keyline::ocsp::testing {

absl::StatusOr<std::string> MakeOcspRequest(const std::vector<X509*>& leaves, X509* issuer,
                                            const EVP_MD* md, std::optional<std::string> nonce) {
  OcspRequestPtr request(OCSP_REQUEST_new());
  for (X509* leaf : leaves) {
    OCSP_CERTID* id = OCSP_cert_to_id(md, leaf, issuer);
    if (id == nullptr || OCSP_request_add0_id(request.get(), id) == nullptr) {
      return OpenSslError(absl::StatusCode::kInternal, "OCSP CertID");
    }
  }
  if (nonce.has_value() &&
      OCSP_request_add1_nonce(request.get(), reinterpret_cast<unsigned char*>(nonce->data()),
                              static_cast<int>(nonce->size())) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "OCSP nonce");
  }
  return EncodeDer([&](unsigned char** out) { return i2d_OCSP_REQUEST(request.get(), out); },
                   "OCSP request");
}

}  // namespace keyline::ocsp::testing
