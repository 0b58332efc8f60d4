#include "ocsp/ocsp_request.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/openssl_ptr.h"

namespace keyline::ocsp {
namespace {

std::string Bytes(const ASN1_STRING* value) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
}

// The DER OCTET STRING inside the nonce extension's extnValue (RFC 9654 2.1:
// Nonce ::= OCTET STRING (SIZE(1..128))).
absl::StatusOr<std::string> ParseNonce(X509_EXTENSION* extension) {
  const std::string value = Bytes(X509_EXTENSION_get_data(extension));
  const auto* cursor = reinterpret_cast<const unsigned char*>(value.data());
  Asn1OctetStringPtr nonce(
      d2i_ASN1_OCTET_STRING(nullptr, &cursor, static_cast<long>(value.size())));
  if (!nonce) {
    ERR_clear_error();
    return absl::InvalidArgumentError("requestExtensions.nonce: not an OCTET STRING");
  }
  if (cursor != reinterpret_cast<const unsigned char*>(value.data()) + value.size()) {
    return absl::InvalidArgumentError("requestExtensions.nonce: trailing bytes");
  }
  unsigned char* reencoded = nullptr;
  const int reencoded_length = i2d_ASN1_OCTET_STRING(nonce.get(), &reencoded);
  const bool is_der =
      reencoded_length == static_cast<int>(value.size()) &&
      std::equal(value.begin(), value.end(), reinterpret_cast<const char*>(reencoded));
  OPENSSL_free(reencoded);
  if (!is_der) return absl::InvalidArgumentError("requestExtensions.nonce: not DER");
  std::string octets = Bytes(nonce.get());
  if (octets.size() < kMinNonceBytes || octets.size() > kMaxNonceBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("requestExtensions.nonce: ", octets.size(),
                     " octets, RFC 9654 allows 1 to 128"));
  }
  return octets;
}

// Refuses duplicates and unknown critical extensions; `nonce` receives the nonce when `nonce` is
// not null (request level). `where` names the list in messages.
template <typename Holder, typename CountFn, typename GetFn>
absl::Status CheckExtensions(Holder* holder, CountFn count, GetFn get, std::string_view where,
                             std::optional<std::string>* nonce) {
  const int total = count(holder);
  std::vector<const ASN1_OBJECT*> seen;
  for (int i = 0; i < total; ++i) {
    X509_EXTENSION* extension = get(holder, i);
    const ASN1_OBJECT* type = X509_EXTENSION_get_object(extension);
    for (const ASN1_OBJECT* earlier : seen) {
      if (OBJ_cmp(earlier, type) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(AsAbsl(where), ": an extension appears twice"));
      }
    }
    seen.push_back(type);
    if (nonce != nullptr && OBJ_obj2nid(type) == NID_id_pkix_OCSP_Nonce) {
      auto parsed = ParseNonce(extension);
      if (!parsed.ok()) return parsed.status();
      *nonce = *std::move(parsed);
      continue;
    }
    if (X509_EXTENSION_get_critical(extension) == 1) {
      char oid[80];
      OBJ_obj2txt(oid, sizeof(oid), type, 1);
      return absl::InvalidArgumentError(
          absl::StrCat(AsAbsl(where), ": unsupported critical extension ", oid));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CertId> ParseCertId(OCSP_CERTID* id, int index) {
  const std::string field = absl::StrCat("requestList[", index, "].reqCert");
  ASN1_OCTET_STRING* name_hash = nullptr;
  ASN1_OBJECT* algorithm = nullptr;
  ASN1_OCTET_STRING* key_hash = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (OCSP_id_get0_info(&name_hash, &algorithm, &key_hash, &serial, id) != 1 ||
      name_hash == nullptr || algorithm == nullptr || key_hash == nullptr || serial == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": incomplete"));
  }
  CertId cert_id;
  size_t hash_length = 0;
  switch (OBJ_obj2nid(algorithm)) {
    case NID_sha1:
      cert_id.hash = CertIdHash::kSha1;
      hash_length = 20;
      break;
    case NID_sha256:
      cert_id.hash = CertIdHash::kSha256;
      hash_length = 32;
      break;
    default:
      cert_id.hash = CertIdHash::kUnknown;
      break;
  }
  cert_id.issuer_name_hash = Bytes(name_hash);
  cert_id.issuer_key_hash = Bytes(key_hash);
  if (hash_length != 0 && (cert_id.issuer_name_hash.size() != hash_length ||
                           cert_id.issuer_key_hash.size() != hash_length)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": issuer hash length does not match hashAlgorithm"));
  }
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".serialNumber: negative"));
  }
  std::string magnitude = Bytes(serial);
  magnitude.erase(0, magnitude.find_first_not_of('\0'));  // npos -> erases everything
  if (magnitude.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".serialNumber: zero or empty"));
  }
  cert_id.serial = std::move(magnitude);

  unsigned char* der = nullptr;
  const int der_length = i2d_OCSP_CERTID(id, &der);
  if (der_length <= 0) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(field, ": cannot be encoded"));
  }
  cert_id.der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(der_length));
  OPENSSL_free(der);
  return cert_id;
}

}  // namespace

absl::StatusOr<OcspRequest> ParseOcspRequest(std::string_view der) {
  if (der.empty()) return absl::InvalidArgumentError("ocspRequest: empty");
  if (der.size() > kMaxOcspRequestBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("ocspRequest: ", der.size(), " bytes, more than ", kMaxOcspRequestBytes));
  }
  const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* cursor = begin;
  OcspRequestPtr request(d2i_OCSP_REQUEST(nullptr, &cursor, static_cast<long>(der.size())));
  if (!request) {
    ERR_clear_error();
    return absl::InvalidArgumentError("ocspRequest: not an OCSPRequest");
  }
  if (cursor != begin + der.size()) {
    return absl::InvalidArgumentError("ocspRequest: trailing bytes after the OCSPRequest");
  }
  // DER only: OpenSSL also reads BER, so the request must encode back to the very same bytes.
  unsigned char* reencoded = nullptr;
  const int reencoded_length = i2d_OCSP_REQUEST(request.get(), &reencoded);
  const bool is_der = reencoded_length == static_cast<int>(der.size()) &&
                      std::equal(der.begin(), der.end(), reinterpret_cast<const char*>(reencoded));
  OPENSSL_free(reencoded);
  if (!is_der) {
    ERR_clear_error();
    return absl::InvalidArgumentError("ocspRequest: not DER (BER or non-canonical encoding)");
  }

  OcspRequest parsed;
  parsed.signed_request = OCSP_request_is_signed(request.get()) == 1;
  const int count = OCSP_request_onereq_count(request.get());
  if (count <= 0) return absl::InvalidArgumentError("requestList: no CertID");
  parsed.cert_ids.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    OCSP_ONEREQ* single = OCSP_request_onereq_get0(request.get(), i);
    auto cert_id = ParseCertId(OCSP_onereq_get0_id(single), i);
    if (!cert_id.ok()) return cert_id.status();
    const auto status = CheckExtensions(
        single, OCSP_ONEREQ_get_ext_count, OCSP_ONEREQ_get_ext,
        AsStd(absl::StrCat("requestList[", i, "].singleRequestExtensions")), nullptr);
    if (!status.ok()) return status;
    parsed.cert_ids.push_back(*std::move(cert_id));
  }
  const auto status = CheckExtensions(request.get(), OCSP_REQUEST_get_ext_count,
                                      OCSP_REQUEST_get_ext, "requestExtensions", &parsed.nonce);
  if (!status.ok()) return status;
  return parsed;
}

}  // namespace keyline::ocsp
