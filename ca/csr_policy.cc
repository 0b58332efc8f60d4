#include "ca/csr_policy.h"

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ca/public_key_decoder.h"
#include "common/absl_compat.h"

// RFC 2986 CertificationRequest with the key left as algorithm + bits (see csr_policy.h). The
// structs and templates follow OpenSSL's asn1t.h conventions, hence the C-style names.
extern "C" {
typedef struct {
  ASN1_ENCODING encoding;  // the DER the signature covers, as it arrived
  ASN1_INTEGER* version;
  X509_NAME* subject;
  KEYLINE_SPKI* key;
  STACK_OF(ASN1_TYPE) * attributes;
} KEYLINE_CSR_INFO;

typedef struct {
  KEYLINE_CSR_INFO* info;
  X509_ALGOR* signature_algorithm;
  ASN1_BIT_STRING* signature;
} KEYLINE_CSR;
}

namespace keyline::ca {
namespace {

ASN1_SEQUENCE_enc(KEYLINE_CSR_INFO, encoding, 0) = {
    ASN1_SIMPLE(KEYLINE_CSR_INFO, version, ASN1_INTEGER),
    ASN1_SIMPLE(KEYLINE_CSR_INFO, subject, X509_NAME),
    ASN1_SIMPLE(KEYLINE_CSR_INFO, key, KEYLINE_SPKI),
    ASN1_IMP_SET_OF_OPT(KEYLINE_CSR_INFO, attributes, ASN1_ANY, 0),
} ASN1_SEQUENCE_END_enc(KEYLINE_CSR_INFO, KEYLINE_CSR_INFO)

ASN1_SEQUENCE(KEYLINE_CSR) = {
    ASN1_SIMPLE(KEYLINE_CSR, info, KEYLINE_CSR_INFO),
    ASN1_SIMPLE(KEYLINE_CSR, signature_algorithm, X509_ALGOR),
    ASN1_SIMPLE(KEYLINE_CSR, signature, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(KEYLINE_CSR)

KEYLINE_CSR* DecodeCsr(const unsigned char** in, long length) {
  return reinterpret_cast<KEYLINE_CSR*>(
      ASN1_item_d2i(nullptr, in, length, ASN1_ITEM_rptr(KEYLINE_CSR)));
}

void FreeCsr(KEYLINE_CSR* request) {
  ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(request), ASN1_ITEM_rptr(KEYLINE_CSR));
}

using CsrPtr = OpenSslPtr<KEYLINE_CSR, FreeCsr>;

constexpr std::string_view kPemMarker = "-----BEGIN";

absl::Status Reject(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": ", AsAbsl(problem)));
}

// The DER inside a PEM "CERTIFICATE REQUEST" (or legacy "NEW CERTIFICATE REQUEST") block.
absl::StatusOr<std::string> PemToDer(std::string_view pem, std::string_view field) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  const int read = PEM_read_bio(bio.get(), &name, &header, &data, &length);
  ERR_clear_error();
  std::string der;
  const bool is_request = read == 1 && (std::string_view(name) == "CERTIFICATE REQUEST" ||
                                        std::string_view(name) == "NEW CERTIFICATE REQUEST");
  if (is_request) der.assign(reinterpret_cast<char*>(data), static_cast<size_t>(length));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (!is_request) return Reject(field, "not a PEM certificate request");
  return der;
}

absl::StatusOr<CsrPtr> Decode(std::string_view der, bool from_pem, std::string_view field) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  CsrPtr request(DecodeCsr(&cursor, static_cast<long>(der.size())));
  ERR_clear_error();
  if (!request) {
    return Reject(field, from_pem ? "not a PEM certificate request"
                                  : "not a DER PKCS#10 certificate request");
  }
  // DER is one encoding: anything after the request is a different message, not this one.
  if (cursor != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return Reject(field, "trailing data after the DER certificate request");
  }
  if (ASN1_INTEGER_get(request->info->version) != 0) {
    return Reject(field, "version is not v1 (0)");
  }
  return request;
}

// The key types the policy accepts, named as in AcceptedCsr::key_type.
absl::StatusOr<std::string> CheckKey(EVP_PKEY* key, std::string_view field) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t group_length = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                         &group_length) != 1) {
        ERR_clear_error();
        return Reject(field, "EC key without a named curve (explicit parameters are not accepted)");
      }
      const std::string_view name(group, group_length);
      if (name == "prime256v1" || name == "P-256") return std::string("ec-p256");
      if (name == "secp384r1" || name == "P-384") return std::string("ec-p384");
      return Reject(field, absl::StrCat("unsupported curve ", AsAbsl(name),
                                        ", P-256 or P-384 required"));
    }
    case EVP_PKEY_ED25519:
      return std::string("ed25519");
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits < 2048) {
        return Reject(field, absl::StrCat("RSA key of ", bits, " bits, at least 2048 required"));
      }
      return absl::StrCat("rsa-", bits);
    }
    default:
      return Reject(field, absl::StrCat("unsupported key type ",
                                        OBJ_nid2sn(EVP_PKEY_get_base_id(key)),
                                        "; EC P-256/P-384, Ed25519 or RSA >= 2048 required"));
  }
}

// The digest the signature algorithm uses: nullptr for Ed25519 (which hashes internally).
absl::StatusOr<const EVP_MD*> SignatureDigest(const X509_ALGOR* signature_algorithm,
                                              EVP_PKEY* key, std::string_view field) {
  const ASN1_OBJECT* object = nullptr;
  X509_ALGOR_get0(&object, nullptr, nullptr, signature_algorithm);
  const int signature_nid = OBJ_obj2nid(object);
  int digest_nid = NID_undef;
  int key_nid = NID_undef;
  if (signature_nid == NID_ED25519) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
      return Reject(field, "signature algorithm does not match the key");
    }
    return static_cast<const EVP_MD*>(nullptr);
  }
  if (!OBJ_find_sigid_algs(signature_nid, &digest_nid, &key_nid)) {
    return Reject(field, "unknown or unsupported signature algorithm");
  }
  if (key_nid != EVP_PKEY_get_base_id(key)) {
    return Reject(field, "signature algorithm does not match the key");
  }
  switch (digest_nid) {
    case NID_sha256:
    case NID_sha384:
    case NID_sha512:
      return EVP_get_digestbynid(digest_nid);
    default:
      return Reject(field, absl::StrCat("signature algorithm ", OBJ_nid2ln(signature_nid),
                                        " is not accepted; SHA-256 or stronger required"));
  }
}

absl::Status VerifySignature(const KEYLINE_CSR* request, EVP_PKEY* key, const EVP_MD* digest,
                             std::string_view field) {
  if (HasUnusedBits(request->signature)) return Reject(field, "signature does not verify");
  const ASN1_ENCODING& signed_part = request->info->encoding;
  const std::string_view signature = BitStringBytes(request->signature);
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  const bool verified =
      context && EVP_DigestVerifyInit(context.get(), nullptr, digest, nullptr, key) == 1 &&
      EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), signed_part.enc, signed_part.len) == 1;
  ERR_clear_error();
  if (!verified) return Reject(field, "signature does not verify");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AcceptedCsr> ParseAndCheckCsr(std::string_view csr, std::string_view field) {
  if (csr.empty()) return Reject(field, "empty");
  if (csr.size() > kMaxCsrBytes) {
    return Reject(field, absl::StrCat(csr.size(), " bytes, larger than the limit of ",
                                      kMaxCsrBytes));
  }
  std::string pem_der;
  if (absl::StartsWith(AsAbsl(csr), AsAbsl(kPemMarker))) {
    auto der = PemToDer(csr, field);
    if (!der.ok()) return der.status();
    pem_der = *std::move(der);
    csr = pem_der;
  }
  auto request = Decode(csr, !pem_der.empty(), field);
  if (!request.ok()) return request.status();
  const KEYLINE_SPKI* spki = (*request)->info->key;

  auto key = DecodePublicKey(spki, field);
  if (!key.ok()) return key.status();
  auto key_type = CheckKey(key->get(), field);
  if (!key_type.ok()) return key_type.status();
  auto digest = SignatureDigest((*request)->signature_algorithm, key->get(), field);
  if (!digest.ok()) return digest.status();
  if (auto status = VerifySignature(request->get(), key->get(), *digest, field); !status.ok()) {
    return status;
  }

  PublicKeyInfo info(*std::move(key), X509AlgorPtr(X509_ALGOR_dup(spki->algorithm)),
                     std::string(BitStringBytes(spki->public_key)));
  return AcceptedCsr{std::move(info), *std::move(key_type)};
}

}  // namespace keyline::ca
