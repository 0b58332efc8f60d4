#include "ca/public_key_decoder.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

extern "C" {
ASN1_SEQUENCE(KEYLINE_SPKI) = {
    ASN1_SIMPLE(KEYLINE_SPKI, algorithm, X509_ALGOR),
    ASN1_SIMPLE(KEYLINE_SPKI, public_key, ASN1_BIT_STRING),
} ASN1_SEQUENCE_END(KEYLINE_SPKI)
}

namespace keyline::ca {
namespace {

void FreeSpki(KEYLINE_SPKI* spki) {
  ASN1_item_free(reinterpret_cast<ASN1_VALUE*>(spki), ASN1_ITEM_rptr(KEYLINE_SPKI));
}
using SpkiPtr = OpenSslPtr<KEYLINE_SPKI, FreeSpki>;

int EncodeSpki(const KEYLINE_SPKI* spki, unsigned char** out) {
  return ASN1_item_i2d(reinterpret_cast<const ASN1_VALUE*>(spki), out,
                       ASN1_ITEM_rptr(KEYLINE_SPKI));
}

absl::Status Reject(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": ", AsAbsl(problem)));
}

// An EVP_PKEY straight from a point or raw key, without OpenSSL's decoder machinery.
absl::StatusOr<EvpPkeyPtr> ImportRawKey(const char* type, const char* group,
                                        std::string_view key_bytes, std::string_view field) {
  EvpPkeyCtxPtr context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  OSSL_PARAM params[3];
  size_t next = 0;
  if (group != nullptr) {
    params[next++] =
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0);
  }
  params[next++] = OSSL_PARAM_construct_octet_string(
      OSSL_PKEY_PARAM_PUB_KEY, const_cast<char*>(key_bytes.data()), key_bytes.size());
  params[next] = OSSL_PARAM_construct_end();
  EVP_PKEY* key = nullptr;
  if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
      EVP_PKEY_fromdata(context.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    ERR_clear_error();
    return Reject(field, "public key cannot be decoded");
  }
  return EvpPkeyPtr(key);
}

// A key on `curve` (its generator as the public point), built once: EC keys of requests are
// copies of it with their own point, 6 us against 24 us for EVP_PKEY_fromdata, which sets the
// curve up from its name every time.
EVP_PKEY* EcTemplate(int curve) {
  const auto make = [](int nid) -> EVP_PKEY* {
    const OpenSslPtr<EC_GROUP, EC_GROUP_free> group(EC_GROUP_new_by_curve_name(nid));
    unsigned char point[1 + 2 * 66];
    const size_t length =
        group ? EC_POINT_point2oct(group.get(), EC_GROUP_get0_generator(group.get()),
                                   POINT_CONVERSION_UNCOMPRESSED, point, sizeof(point), nullptr)
              : 0;
    auto key = ImportRawKey("EC", OBJ_nid2sn(nid),
                            std::string_view(reinterpret_cast<char*>(point), length), "template");
    return key.ok() ? key->release() : nullptr;  // kept for the life of the process
  };
  static EVP_PKEY* const p256 = make(NID_X9_62_prime256v1);
  static EVP_PKEY* const p384 = make(NID_secp384r1);
  return curve == NID_secp384r1 ? p384 : p256;
}

absl::StatusOr<EvpPkeyPtr> ImportEcKey(int curve, std::string_view point, std::string_view field) {
  EVP_PKEY* const key_template = EcTemplate(curve);
  // Without a template (it cannot happen with OpenSSL's curves), the slow way.
  if (key_template == nullptr) return ImportRawKey("EC", OBJ_nid2sn(curve), point, field);
  EvpPkeyPtr key(EVP_PKEY_dup(key_template));
  // Checks that the point is on the curve, as EVP_PKEY_fromdata does.
  if (!key ||
      EVP_PKEY_set1_encoded_public_key(
          key.get(), reinterpret_cast<const unsigned char*>(point.data()), point.size()) != 1) {
    ERR_clear_error();
    return Reject(field, "public key cannot be decoded");
  }
  return key;
}

// The key of the request. EC and Ed25519 keys are imported from their bits; anything else goes
// through OpenSSL's SubjectPublicKeyInfo decoder.
}  // namespace

absl::StatusOr<EvpPkeyPtr> DecodePublicKey(const KEYLINE_SPKI* spki, std::string_view field) {
  const ASN1_OBJECT* algorithm = nullptr;
  int parameter_type = V_ASN1_UNDEF;
  const void* parameter = nullptr;
  X509_ALGOR_get0(&algorithm, &parameter_type, &parameter, spki->algorithm);
  if (HasUnusedBits(spki->public_key)) return Reject(field, "public key bits are not whole octets");
  const std::string_view bits = BitStringBytes(spki->public_key);
  switch (OBJ_obj2nid(algorithm)) {
    case NID_X9_62_id_ecPublicKey: {
      if (parameter_type != V_ASN1_OBJECT) {
        return Reject(field, "EC key without a named curve (explicit parameters are not accepted)");
      }
      const int curve = OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(parameter));
      if (curve != NID_X9_62_prime256v1 && curve != NID_secp384r1) {
        const char* name = curve == NID_undef ? "(unknown)" : OBJ_nid2sn(curve);
        return Reject(field, absl::StrCat("unsupported curve ", name, ", P-256 or P-384 required"));
      }
      return ImportEcKey(curve, bits, field);
    }
    case NID_ED25519:
      return ImportRawKey("ED25519", nullptr, bits, field);
    default: {
      unsigned char* der = nullptr;
      const int length = EncodeSpki(spki, &der);
      const unsigned char* cursor = der;
      EvpPkeyPtr key(length > 0 ? d2i_PUBKEY(nullptr, &cursor, length) : nullptr);
      OPENSSL_free(der);
      ERR_clear_error();
      if (!key) return Reject(field, "public key cannot be decoded");
      return key;
    }
  }
}

absl::StatusOr<EvpPkeyPtr> DecodePublicKeyDer(std::string_view der, std::string_view field) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  SpkiPtr spki(reinterpret_cast<KEYLINE_SPKI*>(ASN1_item_d2i(
      nullptr, &cursor, static_cast<long>(der.size()), ASN1_ITEM_rptr(KEYLINE_SPKI))));
  ERR_clear_error();
  if (!spki || cursor != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return Reject(field, "not a DER SubjectPublicKeyInfo");
  }
  return DecodePublicKey(spki.get(), field);
}

std::string_view BitStringBytes(const ASN1_BIT_STRING* bits) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(bits)),
          static_cast<size_t>(ASN1_STRING_length(bits))};
}

bool HasUnusedBits(const ASN1_BIT_STRING* bits) {
  return (bits->flags & ASN1_STRING_FLAG_BITS_LEFT) != 0 && (bits->flags & 0x07) != 0;
}

}  // namespace keyline::ca
