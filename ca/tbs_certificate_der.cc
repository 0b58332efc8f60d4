#include "ca/tbs_certificate_der.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <initializer_list>
#include <optional>

#include "absl/strings/str_cat.h"
#include "ca/crl_der.h"
#include "ca/keyline_oids.h"
#include "common/absl_compat.h"
#include "common/der_writer.h"
#include "common/openssl_ptr.h"
#include "common/status_macros.h"
#include "common/utf8.h"

namespace keyline::ca {
namespace {

// GeneralName and tagged fields (RFC 5280 4.1, 4.2.1.1, 4.2.1.6).
constexpr uint8_t kExplicit0 = der::ContextConstructed(0);
constexpr uint8_t kExplicit3 = der::ContextConstructed(3);
constexpr uint8_t kImplicit0 = der::ContextPrimitive(0);  // keyIdentifier, OCTET STRING
constexpr uint8_t kDnsName = der::ContextPrimitive(2);
constexpr uint8_t kUri = der::ContextPrimitive(6);
constexpr uint8_t kIpAddress = der::ContextPrimitive(7);

// X.520 upper bounds (ub-common-name and its siblings, RFC 5280 appendix A.1), in characters:
// what OpenSSL's string table enforces for these attributes.
constexpr size_t kMaxNameCharacters = 64;

// The OBJECT IDENTIFIER TLV of a NID OpenSSL knows (ours are registered by ca/keyline_oids.h).
std::string OidTlv(int nid) {
  const ASN1_OBJECT* object = OBJ_nid2obj(nid);
  const unsigned char* data = OBJ_get0_data(object);
  return der::Tlv(der::kObjectIdentifier,
                  std::string_view(reinterpret_cast<const char*>(data),
                                   static_cast<size_t>(OBJ_length(object))));
}

// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
void AppendExtension(std::string& out, int nid, bool critical, std::string_view value) {
  static const std::string kCritical = der::Tlv(der::kBoolean, "\xff");
  out.append(der::Tlv(der::kSequence, {OidTlv(nid), critical ? std::string_view(kCritical) : "",
                                       der::Tlv(der::kOctetString, value)}));
}

// OpenSSL's PrintableString repertoire (X.680 41.4).
bool IsPrintableStringCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view(" '()+,-./:=?").find(c) != std::string_view::npos;
}

// One RelativeDistinguishedName with one attribute, as X509_NAME_add_entry_by_NID(MBSTRING_UTF8)
// encodes it: UTF8String, except serialNumber, which X.520 makes a PrintableString.
absl::Status AppendNameAttribute(std::string& out, int nid, std::string_view value,
                                 std::string_view what) {
  if (value.empty()) return absl::OkStatus();
  const std::optional<size_t> characters = Utf8CharacterCount(value);
  if (!characters || *characters > kMaxNameCharacters) {
    return absl::InternalError(absl::StrCat("certificate subject name: ", AsAbsl(what),
                                            " is not UTF-8 of at most 64 characters"));
  }
  uint8_t tag = der::kUtf8String;
  if (nid == NID_serialNumber) {
    for (char c : value) {
      if (!IsPrintableStringCharacter(c)) {
        return absl::InternalError(
            "certificate subject name: serialNumber outside PrintableString");
      }
    }
    tag = der::kPrintableString;
  }
  out.append(der::Tlv(der::kSet, {der::Tlv(der::kSequence, {OidTlv(nid), der::Tlv(tag, value)})}));
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeName(const SubjectName& subject) {
  std::string attributes;
  KEYLINE_RETURN_IF_ERROR(
      AppendNameAttribute(attributes, NID_organizationName, subject.organization, "O"));
  KEYLINE_RETURN_IF_ERROR(AppendNameAttribute(attributes, NID_organizationalUnitName,
                                              subject.organizational_unit, "OU"));
  KEYLINE_RETURN_IF_ERROR(
      AppendNameAttribute(attributes, NID_commonName, subject.common_name, "CN"));
  KEYLINE_RETURN_IF_ERROR(
      AppendNameAttribute(attributes, NID_serialNumber, subject.serial_number, "serialNumber"));
  return der::Tlv(der::kSequence, attributes);
}

std::string Validity(absl::Time not_before, absl::Time not_after) {
  std::string times;
  AppendCrlTime(times, not_before);
  AppendCrlTime(times, not_after);
  return der::Tlv(der::kSequence, times);
}

// A KeyUsage BIT STRING in minimal form: trailing zero bits of the last octet are unused bits.
std::string KeyUsageBits(std::initializer_list<int> bits) {
  uint8_t octet = 0;
  for (int bit : bits) octet |= static_cast<uint8_t>(0x80 >> bit);
  int unused = 0;
  while (unused < 7 && (octet & (1 << unused)) == 0) ++unused;
  const char content[] = {static_cast<char>(unused), static_cast<char>(octet)};
  return der::Tlv(der::kBitString, std::string_view(content, 2));
}

std::string BasicConstraints(Profile profile) {
  if (!IsCaProfile(profile)) return der::Tlv(der::kSequence, "");
  const std::string is_ca = der::Tlv(der::kBoolean, "\xff");
  // Intermediates issue end-entity certificates only.
  if (profile == Profile::kRoot) return der::Tlv(der::kSequence, is_ca);
  return der::Tlv(der::kSequence, {is_ca, der::Tlv(der::kInteger, std::string_view("\0", 1))});
}

std::string KeyUsage(Profile profile) {
  // Bit numbers from RFC 5280 4.2.1.3.
  constexpr int kDigitalSignature = 0;
  constexpr int kKeyCertSign = 5;
  constexpr int kCrlSign = 6;
  if (profile == Profile::kManufacturerCa) {
    return KeyUsageBits({kDigitalSignature, kKeyCertSign, kCrlSign});
  }
  if (IsCaProfile(profile)) return KeyUsageBits({kKeyCertSign, kCrlSign});
  return KeyUsageBits({kDigitalSignature});
}

int ExtendedKeyUsageNid(Profile profile) {
  switch (profile) {
    case Profile::kOperator:
    case Profile::kDevice:
      return NID_client_auth;
    case Profile::kServer:
      return NID_server_auth;
    case Profile::kOcspSigner:
      return NID_OCSP_sign;
    case Profile::kAttestation:
      return AttestationKeyUsageNid();
    case Profile::kAuditSigner:
      return AuditSigningKeyUsageNid();
    default:
      return NID_undef;  // CA certificates carry no EKU
  }
}

absl::StatusOr<std::string> SubjectAltNames(const CertificateTemplate& request) {
  std::string names;
  for (const std::string& uri : request.uris) names.append(der::Tlv(kUri, uri));
  for (const std::string& dns : request.dns_names) names.append(der::Tlv(kDnsName, dns));
  for (const std::string& ip : request.ip_addresses) {
    OpenSslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free> address(a2i_IPADDRESS(ip.c_str()));
    if (!address) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat("subjectAltName: bad IP address ", ip));
    }
    names.append(der::Tlv(kIpAddress, std::string_view(reinterpret_cast<const char*>(
                                                           ASN1_STRING_get0_data(address.get())),
                                                       ASN1_STRING_length(address.get()))));
  }
  return der::Tlv(der::kSequence, names);
}

absl::StatusOr<std::string> Extensions(const CertificateTemplate& request,
                                       const TbsIssuer& issuer) {
  const Profile profile = request.profile;
  std::string out;
  AppendExtension(out, NID_basic_constraints, true, BasicConstraints(profile));
  AppendExtension(out, NID_key_usage, true, KeyUsage(profile));
  if (const int purpose = ExtendedKeyUsageNid(profile); purpose != NID_undef) {
    AppendExtension(out, NID_ext_key_usage, false, der::Tlv(der::kSequence, OidTlv(purpose)));
  }
  // RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
  const std::string& key_bits = request.public_key->key_bits();
  unsigned char key_id[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(key_bits.data()), key_bits.size(), key_id);
  AppendExtension(
      out, NID_subject_key_identifier, false,
      der::Tlv(der::kOctetString,
               std::string_view(reinterpret_cast<const char*>(key_id), sizeof(key_id))));
  if (!issuer.name_der.empty()) {
    AppendExtension(out, NID_authority_key_identifier, false,
                    der::Tlv(der::kSequence, der::Tlv(kImplicit0, issuer.key_id)));
  }
  if (!request.uris.empty() || !request.dns_names.empty() || !request.ip_addresses.empty()) {
    KEYLINE_ASSIGN_OR_RETURN(const std::string names, SubjectAltNames(request));
    AppendExtension(out, NID_subject_alt_name, false, names);
  }
  if (!request.crl_url.empty()) {
    // CRLDistributionPoints: one DistributionPoint { distributionPoint }.
    AppendExtension(
        out, NID_crl_distribution_points, false,
        der::Tlv(der::kSequence, der::Tlv(der::kSequence, DistributionPointName(request.crl_url))));
  }
  if (!request.ocsp_url.empty()) {
    AppendExtension(
        out, NID_info_access, false,
        der::Tlv(der::kSequence, der::Tlv(der::kSequence, {OidTlv(NID_ad_OCSP),
                                                           der::Tlv(kUri, request.ocsp_url)})));
  }
  // RFC 6960 4.2.2.2.1: the responder certificate is not itself checked for revocation.
  if (profile == Profile::kOcspSigner) {
    AppendExtension(out, NID_id_pkix_OCSP_noCheck, false, der::Tlv(der::kNull, ""));
  }
  if (profile == Profile::kAttestation) {
    // certificatePolicies: attestation only.
    AppendExtension(
        out, NID_certificate_policies, false,
        der::Tlv(der::kSequence, der::Tlv(der::kSequence, OidTlv(AttestationPolicyNid()))));
    if (!request.hardware_model.empty()) {
      AppendExtension(out, HardwareModelNid(), false,
                      der::Tlv(der::kUtf8String, request.hardware_model));
    }
  }
  return der::Tlv(kExplicit3, der::Tlv(der::kSequence, out));
}

}  // namespace

absl::StatusOr<std::string> EncodeTbsCertificate(const CertificateTemplate& request,
                                                 const TbsIssuer& issuer,
                                                 std::string_view signature_algorithm,
                                                 absl::Time not_after) {
  if (request.public_key == nullptr) return absl::InvalidArgumentError("template: no public key");
  static const std::string kVersion3 = der::Tlv(kExplicit0, der::Tlv(der::kInteger, "\x02"));
  std::string serial;
  KEYLINE_RETURN_IF_ERROR(SerialIntegerContent(request.serial, "template serial", &serial));
  KEYLINE_ASSIGN_OR_RETURN(const std::string subject, EncodeName(request.subject));
  KEYLINE_ASSIGN_OR_RETURN(const std::string public_key, request.public_key->ToDer());
  KEYLINE_ASSIGN_OR_RETURN(const std::string extensions, Extensions(request, issuer));
  const std::string_view issuer_name = issuer.name_der.empty() ? subject : issuer.name_der;
  return der::Tlv(der::kSequence,
                  {kVersion3, der::Tlv(der::kInteger, serial), signature_algorithm, issuer_name,
                   Validity(request.not_before, not_after), subject, public_key, extensions});
}

std::string EncodeSignedCertificate(std::string_view tbs, std::string_view signature_algorithm,
                                    std::string_view signature) {
  // A signature is a whole number of octets: no unused bits.
  return der::Tlv(der::kSequence,
                  {tbs, signature_algorithm,
                   der::Tlv(der::kBitString, {std::string_view("\0", 1), signature})});
}

std::string SignatureAlgorithmDer(int nid) { return der::Tlv(der::kSequence, OidTlv(nid)); }

}  // namespace keyline::ca
