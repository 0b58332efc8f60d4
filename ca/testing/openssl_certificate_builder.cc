#include "ca/testing/openssl_certificate_builder.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "ca/keyline_oids.h"
#include "ca/serial_number.h"
#include "ca/x509_signing.h"
#include "common/absl_compat.h"
#include "common/digests.h"
#include "common/openssl_error.h"
#include "common/openssl_ptr.h"
#include "common/status_macros.h"

namespace keyline::ca::testing {
namespace {

using Asn1BitStringPtr = OpenSslPtr<ASN1_BIT_STRING, ASN1_BIT_STRING_free>;
using AuthorityKeyIdPtr = OpenSslPtr<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;
using AuthorityInfoAccessPtr = OpenSslPtr<AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free>;
using CrlDistPointsPtr = OpenSslPtr<CRL_DIST_POINTS, CRL_DIST_POINTS_free>;
using Asn1NullPtr = OpenSslPtr<ASN1_NULL, ASN1_NULL_free>;

absl::Status Failed(std::string_view what) {
  return OpenSslError(absl::StatusCode::kInternal, absl::StrCat("certificate ", AsAbsl(what)));
}

absl::Status AddExtension(X509* certificate, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(certificate, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return Failed(absl::StrCat("extension ", OBJ_nid2sn(nid)));
  }
  return absl::OkStatus();
}

absl::Status AddNameEntry(X509_NAME* name, int nid, const std::string& value) {
  if (value.empty()) return absl::OkStatus();
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return Failed("subject name");
  }
  return absl::OkStatus();
}

absl::Status SetSubject(X509* certificate, const SubjectName& subject) {
  X509NamePtr name(X509_NAME_new());
  if (!name) return Failed("subject name");
  KEYLINE_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_organizationName, subject.organization));
  KEYLINE_RETURN_IF_ERROR(
      AddNameEntry(name.get(), NID_organizationalUnitName, subject.organizational_unit));
  KEYLINE_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_commonName, subject.common_name));
  KEYLINE_RETURN_IF_ERROR(AddNameEntry(name.get(), NID_serialNumber, subject.serial_number));
  if (X509_set_subject_name(certificate, name.get()) != 1) return Failed("subject name");
  return absl::OkStatus();
}

absl::Status SetValidity(X509* certificate, absl::Time not_before, absl::Time not_after) {
  // ASN1_TIME_set picks UTCTime through 2049 and GeneralizedTime after, as RFC 5280 4.1.2.5 asks.
  if (!ASN1_TIME_set(X509_getm_notBefore(certificate), absl::ToTimeT(not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(certificate), absl::ToTimeT(not_after))) {
    return Failed("validity");
  }
  return absl::OkStatus();
}

absl::Status AddBasicConstraints(X509* certificate, Profile profile) {
  BasicConstraintsPtr constraints(BASIC_CONSTRAINTS_new());
  if (IsCaProfile(profile)) {
    constraints->ca = 0xff;
    if (profile != Profile::kRoot) {
      // Intermediates issue end-entity certificates only.
      constraints->pathlen = ASN1_INTEGER_new();
      ASN1_INTEGER_set(constraints->pathlen, 0);
    }
  }
  return AddExtension(certificate, NID_basic_constraints, constraints.get(), true);
}

absl::Status AddKeyUsage(X509* certificate, Profile profile) {
  Asn1BitStringPtr usage(ASN1_BIT_STRING_new());
  // Bit numbers from RFC 5280 4.2.1.3.
  constexpr int kDigitalSignature = 0;
  constexpr int kKeyCertSign = 5;
  constexpr int kCrlSign = 6;
  bool ok = true;
  if (IsCaProfile(profile)) {
    ok = ASN1_BIT_STRING_set_bit(usage.get(), kKeyCertSign, 1) == 1 &&
         ASN1_BIT_STRING_set_bit(usage.get(), kCrlSign, 1) == 1;
    if (profile == Profile::kManufacturerCa) {
      ok = ok && ASN1_BIT_STRING_set_bit(usage.get(), kDigitalSignature, 1) == 1;
    }
  } else {
    ok = ASN1_BIT_STRING_set_bit(usage.get(), kDigitalSignature, 1) == 1;
  }
  if (!ok) return Failed("key usage");
  return AddExtension(certificate, NID_key_usage, usage.get(), true);
}

absl::Status AddExtendedKeyUsage(X509* certificate, Profile profile) {
  int purpose = NID_undef;
  switch (profile) {
    case Profile::kOperator:
    case Profile::kDevice:
      purpose = NID_client_auth;
      break;
    case Profile::kServer:
      purpose = NID_server_auth;
      break;
    case Profile::kOcspSigner:
      purpose = NID_OCSP_sign;
      break;
    case Profile::kAttestation:
      purpose = AttestationKeyUsageNid();
      break;
    case Profile::kAuditSigner:
      purpose = AuditSigningKeyUsageNid();
      break;
    default:
      return absl::OkStatus();  // CA certificates carry no EKU
  }
  ExtendedKeyUsagePtr usage(sk_ASN1_OBJECT_new_null());
  if (!usage || sk_ASN1_OBJECT_push(usage.get(), OBJ_nid2obj(purpose)) <= 0) {
    return Failed("extended key usage");
  }
  return AddExtension(certificate, NID_ext_key_usage, usage.get(), false);
}

absl::Status AddKeyIdentifiers(X509* certificate, const X509* issuer_certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  if (X509_pubkey_digest(certificate, Sha1Digest(), digest, &digest_length) != 1) {
    return Failed("subject key identifier");
  }
  Asn1OctetStringPtr subject_key_id(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(subject_key_id.get(), digest, static_cast<int>(digest_length));
  KEYLINE_RETURN_IF_ERROR(
      AddExtension(certificate, NID_subject_key_identifier, subject_key_id.get(), false));
  if (issuer_certificate == nullptr) return absl::OkStatus();  // RFC 5280 4.2.1.1: may omit

  const ASN1_OCTET_STRING* issuer_key_id =
      X509_get0_subject_key_id(const_cast<X509*>(issuer_certificate));
  if (issuer_key_id == nullptr) {
    return absl::FailedPreconditionError("issuer certificate has no subject key identifier");
  }
  AuthorityKeyIdPtr authority_key_id(AUTHORITY_KEYID_new());
  authority_key_id->keyid = ASN1_OCTET_STRING_dup(issuer_key_id);
  return AddExtension(certificate, NID_authority_key_identifier, authority_key_id.get(), false);
}

GeneralNamePtr UriName(const std::string& uri) {
  GeneralNamePtr name(GENERAL_NAME_new());
  ASN1_IA5STRING* text = ASN1_IA5STRING_new();
  ASN1_STRING_set(text, uri.data(), static_cast<int>(uri.size()));
  GENERAL_NAME_set0_value(name.get(), GEN_URI, text);
  return name;
}

absl::Status AddSubjectAltNames(X509* certificate, const CertificateTemplate& request) {
  if (request.uris.empty() && request.dns_names.empty() && request.ip_addresses.empty()) {
    return absl::OkStatus();
  }
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  for (const auto& uri : request.uris) {
    sk_GENERAL_NAME_push(names.get(), UriName(uri).release());
  }
  for (const auto& dns : request.dns_names) {
    GeneralNamePtr name(GENERAL_NAME_new());
    ASN1_IA5STRING* text = ASN1_IA5STRING_new();
    ASN1_STRING_set(text, dns.data(), static_cast<int>(dns.size()));
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, text);
    sk_GENERAL_NAME_push(names.get(), name.release());
  }
  for (const auto& ip : request.ip_addresses) {
    ASN1_OCTET_STRING* address = a2i_IPADDRESS(ip.c_str());
    if (address == nullptr) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat("subjectAltName: bad IP address ", ip));
    }
    GeneralNamePtr name(GENERAL_NAME_new());
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, address);
    sk_GENERAL_NAME_push(names.get(), name.release());
  }
  return AddExtension(certificate, NID_subject_alt_name, names.get(), false);
}

absl::Status AddCrlDistributionPoint(X509* certificate, const std::string& url) {
  if (url.empty()) return absl::OkStatus();
  CrlDistPointsPtr points(sk_DIST_POINT_new_null());
  DIST_POINT* point = DIST_POINT_new();
  point->distpoint = DIST_POINT_NAME_new();
  point->distpoint->type = 0;  // fullName
  point->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
  sk_GENERAL_NAME_push(point->distpoint->name.fullname, UriName(url).release());
  sk_DIST_POINT_push(points.get(), point);
  return AddExtension(certificate, NID_crl_distribution_points, points.get(), false);
}

absl::Status AddOcspAccess(X509* certificate, const std::string& url) {
  if (url.empty()) return absl::OkStatus();
  AuthorityInfoAccessPtr access(sk_ACCESS_DESCRIPTION_new_null());
  ACCESS_DESCRIPTION* description = ACCESS_DESCRIPTION_new();
  ASN1_OBJECT_free(description->method);
  description->method = OBJ_nid2obj(NID_ad_OCSP);
  GENERAL_NAME_free(description->location);
  description->location = UriName(url).release();
  sk_ACCESS_DESCRIPTION_push(access.get(), description);
  return AddExtension(certificate, NID_info_access, access.get(), false);
}

absl::Status AddOcspNoCheck(X509* certificate) {
  // RFC 6960 4.2.2.2.1: the responder certificate is not itself checked for revocation.
  Asn1NullPtr null_value(ASN1_NULL_new());
  return AddExtension(certificate, NID_id_pkix_OCSP_noCheck, null_value.get(), false);
}

absl::Status AddAttestationExtensions(X509* certificate, const std::string& hardware_model) {
  // certificatePolicies: attestation only.
  OpenSslPtr<CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free> policies(sk_POLICYINFO_new_null());
  POLICYINFO* policy = POLICYINFO_new();
  ASN1_OBJECT_free(policy->policyid);
  policy->policyid = OBJ_nid2obj(AttestationPolicyNid());
  sk_POLICYINFO_push(policies.get(), policy);
  KEYLINE_RETURN_IF_ERROR(
      AddExtension(certificate, NID_certificate_policies, policies.get(), false));
  if (hardware_model.empty()) return absl::OkStatus();

  // The hardware model, as a DER UTF8String inside a Keyline extension.
  OpenSslPtr<ASN1_UTF8STRING, ASN1_UTF8STRING_free> model(ASN1_UTF8STRING_new());
  ASN1_STRING_set(model.get(), hardware_model.data(), static_cast<int>(hardware_model.size()));
  unsigned char* der = nullptr;
  const int length = i2d_ASN1_UTF8STRING(model.get(), &der);
  Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
  const bool set = length > 0 && ASN1_OCTET_STRING_set(value.get(), der, length) == 1;
  OPENSSL_free(der);
  X509ExtensionPtr extension(
      set ? X509_EXTENSION_create_by_OBJ(nullptr, OBJ_nid2obj(HardwareModelNid()), 0, value.get())
          : nullptr);
  if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return Failed("hardware model extension");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BuiltCertificate> BuildCertificateWithOpenSsl(const CertificateTemplate& request,
                                                             const X509* issuer_certificate,
                                                             const hsm::SigningKey& issuer_key) {
  KEYLINE_RETURN_IF_ERROR(CheckCertificateTemplate(request));
  X509Ptr certificate(X509_new());
  if (!certificate || X509_set_version(certificate.get(), X509_VERSION_3) != 1) {
    return Failed("allocation");
  }
  Asn1IntegerPtr serial = SerialToAsn1Integer(request.serial);
  if (!serial || X509_set_serialNumber(certificate.get(), serial.get()) != 1) {
    return Failed("serial");
  }
  KEYLINE_RETURN_IF_ERROR(SetSubject(certificate.get(), request.subject));
  const X509_NAME* issuer_name = issuer_certificate != nullptr
                                     ? X509_get_subject_name(issuer_certificate)
                                     : X509_get_subject_name(certificate.get());
  if (X509_set_issuer_name(certificate.get(), issuer_name) != 1) return Failed("issuer name");

  absl::Time not_after = request.not_after;
  if (issuer_certificate != nullptr) {
    // The issuer's own notAfter bounds everything it signs.
    struct tm limit {};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(issuer_certificate), &limit) != 1) {
      return Failed("issuer notAfter");
    }
    not_after = std::min(not_after, absl::FromTimeT(timegm(&limit)));
  }
  KEYLINE_RETURN_IF_ERROR(SetValidity(certificate.get(), request.not_before, not_after));
  KEYLINE_RETURN_IF_ERROR(request.public_key->CopyInto(certificate.get()));
  if (issuer_certificate == nullptr &&
      EVP_PKEY_eq(request.public_key->key(), issuer_key.public_key()) != 1) {
    return absl::InvalidArgumentError("self-signed template: key differs from the signing key");
  }

  X509* x = certificate.get();
  const Profile profile = request.profile;
  KEYLINE_RETURN_IF_ERROR(AddBasicConstraints(x, profile));
  KEYLINE_RETURN_IF_ERROR(AddKeyUsage(x, profile));
  KEYLINE_RETURN_IF_ERROR(AddExtendedKeyUsage(x, profile));
  KEYLINE_RETURN_IF_ERROR(AddKeyIdentifiers(x, issuer_certificate));
  KEYLINE_RETURN_IF_ERROR(AddSubjectAltNames(x, request));
  KEYLINE_RETURN_IF_ERROR(AddCrlDistributionPoint(x, request.crl_url));
  KEYLINE_RETURN_IF_ERROR(AddOcspAccess(x, request.ocsp_url));
  if (profile == Profile::kOcspSigner) KEYLINE_RETURN_IF_ERROR(AddOcspNoCheck(x));
  if (profile == Profile::kAttestation) {
    KEYLINE_RETURN_IF_ERROR(AddAttestationExtensions(x, request.hardware_model));
  }
  KEYLINE_ASSIGN_OR_RETURN(std::string der, SignCertificate(certificate.get(), issuer_key));
  return BuiltCertificate{std::move(der), absl::FromTimeT(absl::ToTimeT(request.not_before)),
                          absl::FromTimeT(absl::ToTimeT(not_after))};
}

}  // namespace keyline::ca::testing
