#include "ca/csr_builder.h"

#include "ca/x509_signing.h"
#include "common/der_encoding.h"
#include "common/openssl_error.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {

using Asn1BitStringPtr = OpenSslPtr<ASN1_BIT_STRING, ASN1_BIT_STRING_free>;
using X509AlgorOwner = OpenSslPtr<X509_ALGOR, X509_ALGOR_free>;

absl::StatusOr<std::string> CreateCsrWithKey(const hsm::SigningKey& key,
                                             std::string_view common_name) {
  X509ReqPtr request(X509_REQ_new());
  if (!request || X509_REQ_set_version(request.get(), 0) != 1 ||
      X509_REQ_set_pubkey(request.get(), key.public_key()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "csr");
  }
  if (!common_name.empty() &&
      X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(request.get()), NID_commonName,
                                 MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "csr subject");
  }
  X509AlgorOwner algorithm(X509_ALGOR_new());
  X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(SignatureNid(key)), V_ASN1_UNDEF, nullptr);
  if (X509_REQ_set1_signature_algo(request.get(), algorithm.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "csr signature algorithm");
  }
  auto info = EncodeDer(
      [&request](unsigned char** out) { return i2d_re_X509_REQ_tbs(request.get(), out); },
      "csr info");
  if (!info.ok()) return info.status();
  auto signature = SignWithKey(key, *info);
  if (!signature.ok()) return signature.status();
  Asn1BitStringPtr bits(ASN1_BIT_STRING_new());
  ASN1_BIT_STRING_set(bits.get(), reinterpret_cast<unsigned char*>(signature->data()),
                      static_cast<int>(signature->size()));
  bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  X509_REQ_set0_signature(request.get(), bits.release());
  return EncodeDer([&request](unsigned char** out) { return i2d_X509_REQ(request.get(), out); },
                   "csr encoding");
}

}  // namespace keyline::ca
