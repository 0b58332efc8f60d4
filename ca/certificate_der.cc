#include "ca/certificate_der.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>

#include "common/der_encoding.h"

namespace keyline::ca {
namespace {

absl::Time ToTime(const ASN1_TIME* time) {
  struct tm parts {};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return absl::InfinitePast();
  return absl::FromTimeT(timegm(&parts));
}

}  // namespace

absl::StatusOr<X509Ptr> ParseCertificateDer(std::string_view der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr certificate(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  if (!certificate) {
    ERR_clear_error();
    return absl::InvalidArgumentError("certificate: not DER X.509");
  }
  if (cursor != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return absl::InvalidArgumentError("certificate: trailing data after the DER certificate");
  }
  return certificate;
}

absl::StatusOr<std::string> CertificateToDer(const X509* certificate) {
  return EncodeDer([certificate](unsigned char** out) { return i2d_X509(certificate, out); },
                   "certificate encoding");
}

std::string DerToPem(std::string_view der) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio(bio.get(), "CERTIFICATE", "", reinterpret_cast<const unsigned char*>(der.data()),
                static_cast<long>(der.size()));
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

absl::StatusOr<std::vector<std::string>> PemToDerChain(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<std::string> chain;
  while (true) {
    X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!certificate) break;
    auto der = CertificateToDer(certificate.get());
    if (!der.ok()) return der.status();
    chain.push_back(*std::move(der));
  }
  // PEM_read_bio_X509 ends with "no start line" at the end of the input; anything else is an error.
  const unsigned long error = ERR_peek_last_error();
  ERR_clear_error();
  if (ERR_GET_REASON(error) != PEM_R_NO_START_LINE && error != 0) {
    return absl::InvalidArgumentError("certificate: malformed PEM certificate");
  }
  if (chain.empty()) return absl::InvalidArgumentError("certificate: no PEM certificate found");
  return chain;
}

std::string SubjectKeyIdOf(const X509* certificate) {
  const ASN1_OCTET_STRING* id = X509_get0_subject_key_id(const_cast<X509*>(certificate));
  if (id == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(id)),
                     static_cast<size_t>(ASN1_STRING_length(id)));
}

absl::Time NotBeforeOf(const X509* certificate) { return ToTime(X509_get0_notBefore(certificate)); }
absl::Time NotAfterOf(const X509* certificate) { return ToTime(X509_get0_notAfter(certificate)); }

}  // namespace keyline::ca
