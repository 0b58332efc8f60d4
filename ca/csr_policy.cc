#include "ca/csr_policy.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::ca {
namespace {

constexpr std::string_view kPemMarker = "-----BEGIN";

absl::Status Reject(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": ", AsAbsl(problem)));
}

absl::StatusOr<X509ReqPtr> Decode(std::string_view csr, std::string_view field) {
  if (absl::StartsWith(AsAbsl(csr), AsAbsl(kPemMarker))) {
    BioPtr bio(BIO_new_mem_buf(csr.data(), static_cast<int>(csr.size())));
    X509ReqPtr request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!request) return Reject(field, "not a PEM certificate request");
    return request;
  }
  const auto* cursor = reinterpret_cast<const unsigned char*>(csr.data());
  X509ReqPtr request(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(csr.size())));
  ERR_clear_error();
  if (!request) return Reject(field, "not a DER PKCS#10 certificate request");
  // DER is one encoding: anything after the request is a different message, not this one.
  if (cursor != reinterpret_cast<const unsigned char*>(csr.data()) + csr.size()) {
    return Reject(field, "trailing data after the DER certificate request");
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
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS: {
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

absl::Status CheckSignatureAlgorithm(const X509_REQ* request, std::string_view field) {
  const X509_ALGOR* algorithm = nullptr;
  X509_REQ_get0_signature(request, nullptr, &algorithm);
  const ASN1_OBJECT* object = nullptr;
  X509_ALGOR_get0(&object, nullptr, nullptr, algorithm);
  int digest_nid = NID_undef;
  int key_nid = NID_undef;
  const int signature_nid = OBJ_obj2nid(object);
  if (signature_nid == NID_ED25519 || signature_nid == NID_rsassaPss) return absl::OkStatus();
  if (!OBJ_find_sigid_algs(signature_nid, &digest_nid, &key_nid)) {
    return Reject(field, "unknown signature algorithm");
  }
  switch (digest_nid) {
    case NID_sha256:
    case NID_sha384:
    case NID_sha512:
      return absl::OkStatus();
    default:
      return Reject(field, absl::StrCat("signature algorithm ", OBJ_nid2ln(signature_nid),
                                        " is not accepted; SHA-256 or stronger required"));
  }
}

}  // namespace

absl::StatusOr<AcceptedCsr> ParseAndCheckCsr(std::string_view csr, std::string_view field) {
  if (csr.empty()) return Reject(field, "empty");
  if (csr.size() > kMaxCsrBytes) {
    return Reject(field, absl::StrCat(csr.size(), " bytes, larger than the limit of ",
                                      kMaxCsrBytes));
  }
  auto request = Decode(csr, field);
  if (!request.ok()) return request.status();

  EvpPkeyPtr key(X509_REQ_get_pubkey(request->get()));
  ERR_clear_error();
  if (!key) return Reject(field, "public key cannot be decoded");
  auto key_type = CheckKey(key.get(), field);
  if (!key_type.ok()) return key_type.status();

  if (auto status = CheckSignatureAlgorithm(request->get(), field); !status.ok()) return status;
  if (X509_REQ_verify(request->get(), key.get()) != 1) {
    ERR_clear_error();
    return Reject(field, "signature does not verify");
  }
  return AcceptedCsr{std::move(key), *std::move(key_type)};
}

}  // namespace keyline::ca
