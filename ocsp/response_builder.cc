#include "ocsp/response_builder.h"

#include <openssl/obj_mac.h>

#include "absl/strings/str_cat.h"
#include "ca/x509_signing.h"
#include "common/der_writer.h"
#include "ocsp/ocsp_request.h"

namespace keyline::ocsp {
namespace {

using std::string_view_literals::operator""sv;

// 1.3.6.1.5.5.7.48.1.1 id-pkix-ocsp-basic and 1.3.6.1.5.5.7.48.1.2 id-pkix-ocsp-nonce.
constexpr std::string_view kOcspBasicOid = "\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x01"sv;
constexpr std::string_view kOcspNonceOid = "\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x02"sv;
// AlgorithmIdentifier SEQUENCE { ecdsa-with-SHA256 | ecdsa-with-SHA384 }, parameters absent
// (RFC 5758 3.2).
constexpr std::string_view kEcdsaWithSha256 = "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02"sv;
constexpr std::string_view kEcdsaWithSha384 = "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03"sv;
// CertStatus good [0] IMPLICIT NULL and unknown [2] IMPLICIT UnknownInfo (NULL).
constexpr std::string_view kGood = "\x80\x00"sv;
constexpr std::string_view kUnknown = "\x82\x00"sv;

bool IsCrlReason(int reason) { return reason >= 0 && reason <= 10 && reason != 7; }

absl::StatusOr<std::string> EncodeCertStatus(const CertificateStatus& status) {
  switch (status.kind) {
    case CertificateStatus::Kind::kGood:
      return std::string(kGood);
    case CertificateStatus::Kind::kRevoked: {
      // RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime,
      //                            revocationReason [0] EXPLICIT CRLReason OPTIONAL }
      std::string reason;
      if (status.reason.has_value()) {
        if (!IsCrlReason(*status.reason)) {
          return absl::InvalidArgumentError(
              absl::StrCat("status.reason: ", *status.reason, " is not a CRLReason"));
        }
        const char code = static_cast<char>(*status.reason);
        reason = der::Tlv(der::ContextConstructed(0),
                          {der::Tlv(der::kEnumerated, {std::string_view(&code, 1)})});
      }
      if (!der::IsEncodableTime(status.revoked_at)) {
        return absl::InvalidArgumentError("status.revoked_at: not a GeneralizedTime");
      }
      return der::Tlv(der::ContextConstructed(1),
                      {der::GeneralizedTime(status.revoked_at), reason});
    }
    case CertificateStatus::Kind::kUnknown:
    default:
      return std::string(kUnknown);
  }
}

absl::Status AppendSingleResponse(std::string* out, const SingleResponseData& single) {
  if (single.cert_id_der.size() < 2 || static_cast<uint8_t>(single.cert_id_der[0]) != der::kSequence) {
    return absl::InvalidArgumentError("responses.certID: not a DER SEQUENCE");
  }
  if (!der::IsEncodableTime(single.this_update) || !der::IsEncodableTime(single.next_update)) {
    return absl::InvalidArgumentError("responses: thisUpdate or nextUpdate not a GeneralizedTime");
  }
  if (der::TruncateToSecond(single.next_update) <= der::TruncateToSecond(single.this_update)) {
    return absl::InvalidArgumentError("responses.nextUpdate: not after thisUpdate");
  }
  auto status = EncodeCertStatus(single.status);
  if (!status.ok()) return status.status();
  der::AppendTlv(
      *out, der::kSequence,
      {single.cert_id_der, *status, der::GeneralizedTime(single.this_update),
       der::Tlv(der::ContextConstructed(0), {der::GeneralizedTime(single.next_update)})});
  return absl::OkStatus();
}

}  // namespace

std::string_view OcspResponseStatusName(OcspResponseStatus status) {
  switch (status) {
    case OcspResponseStatus::kSuccessful:
      return "successful";
    case OcspResponseStatus::kMalformedRequest:
      return "malformedRequest";
    case OcspResponseStatus::kInternalError:
      return "internalError";
    case OcspResponseStatus::kTryLater:
      return "tryLater";
    case OcspResponseStatus::kSigRequired:
      return "sigRequired";
    case OcspResponseStatus::kUnauthorized:
      return "unauthorized";
    default:
      return "invalid";
  }
}

absl::StatusOr<std::string> SignOcspResponse(const OcspIssuer& issuer,
                                             absl::Span<const SingleResponseData> responses,
                                             absl::Time produced_at,
                                             std::optional<std::string_view> nonce) {
  if (responses.empty()) return absl::InvalidArgumentError("responses: empty");
  if (!der::IsEncodableTime(produced_at)) {
    return absl::InvalidArgumentError("producedAt: not a GeneralizedTime");
  }
  std::string singles;
  for (const SingleResponseData& single : responses) {
    if (auto status = AppendSingleResponse(&singles, single); !status.ok()) return status;
  }

  // responseExtensions [1] EXPLICIT Extensions { Extension { id-pkix-ocsp-nonce,
  //   extnValue OCTET STRING { Nonce OCTET STRING } } }: critical is absent (FALSE is DEFAULT).
  std::string extensions;
  if (nonce.has_value()) {
    if (nonce->size() < kMinNonceBytes || nonce->size() > kMaxNonceBytes) {
      return absl::InvalidArgumentError("nonce: must be 1 to 128 octets");
    }
    extensions = der::Tlv(
        der::ContextConstructed(1),
        {der::Tlv(der::kSequence,
                  {der::Tlv(der::kSequence,
                            {kOcspNonceOid,
                             der::Tlv(der::kOctetString,
                                      {der::Tlv(der::kOctetString, {*nonce})})})})});
  }

  // ResponseData: version is v1, the DEFAULT, so it is absent; responderID byKey [2] EXPLICIT.
  const std::string response_data = der::Tlv(
      der::kSequence,
      {der::Tlv(der::ContextConstructed(2),
                {der::Tlv(der::kOctetString, {issuer.responder_key_hash()})}),
       der::GeneralizedTime(produced_at), der::Tlv(der::kSequence, {singles}), extensions});

  auto signature = ca::SignWithKey(issuer.signer_key(), response_data);
  if (!signature.ok()) return signature.status();

  const std::string_view algorithm =
      ca::SignatureNid(issuer.signer_key()) == NID_ecdsa_with_SHA384 ? kEcdsaWithSha384
                                                                     : kEcdsaWithSha256;
  // BIT STRING: the first content octet counts the unused bits of the last octet, here none.
  const std::string basic = der::Tlv(
      der::kSequence,
      {response_data, algorithm, der::Tlv(der::kBitString, {"\x00"sv, *signature}),
       der::Tlv(der::ContextConstructed(0),
                {der::Tlv(der::kSequence, {issuer.signer_certificate_der()})})});

  std::string out;
  out.reserve(basic.size() + 32);
  der::AppendTlv(out, der::kSequence,
                 {"\x0a\x01\x00"sv,  // responseStatus ENUMERATED successful
                  der::Tlv(der::ContextConstructed(0),
                           {der::Tlv(der::kSequence,
                                     {kOcspBasicOid, der::Tlv(der::kOctetString, {basic})})})});
  return out;
}

std::string_view UnsignedOcspResponse(OcspResponseStatus status) {
  switch (status) {
    case OcspResponseStatus::kMalformedRequest:
      return "\x30\x03\x0a\x01\x01"sv;
    case OcspResponseStatus::kTryLater:
      return "\x30\x03\x0a\x01\x03"sv;
    case OcspResponseStatus::kSigRequired:
      return "\x30\x03\x0a\x01\x05"sv;
    case OcspResponseStatus::kUnauthorized:
      return "\x30\x03\x0a\x01\x06"sv;
    case OcspResponseStatus::kInternalError:
    case OcspResponseStatus::kSuccessful:
    default:
      return "\x30\x03\x0a\x01\x02"sv;
  }
}

}  // namespace keyline::ocsp
