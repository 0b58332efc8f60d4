// Reads OCSP responses back with OpenSSL's own OCSP_* API, the way a relying party would: the
// tests judge Keyline's encoder by a parser it did not write.
#pragma once

#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/openssl_ptr.h"
#include "ocsp/testing/test_pki.h"

namespace keyline::ocsp::testing {

struct FoundStatus {
  int status = -1;  // V_OCSP_CERTSTATUS_GOOD, _REVOKED, _UNKNOWN
  int reason = -1;  // OCSP_REVOKED_STATUS_NOSTATUS (-1) when absent
  absl::Time revoked_at = absl::InfinitePast();
  absl::Time this_update;
  absl::Time next_update;
  absl::Time produced_at;
  int signature_nid = 0;
  int single_count = 0;
  OcspBasicResponsePtr basic;
};

// The OCSPResponse's responseStatus, or -1 when it does not parse.
int ResponseStatusOf(std::string_view der);

// Parses the successful response `der`, checks its signature and the signer's delegation with
// OCSP_basic_verify against the PKI's root and CA, and finds `leaf` through a CertID hashed with
// `md` (OCSP_resp_find_status). FailedPrecondition describes what did not hold.
[[nodiscard]] absl::StatusOr<FoundStatus> VerifyAndFind(std::string_view der, const TestPki& pki,
                                                        X509* leaf, const EVP_MD* md = EVP_sha1());

absl::Time TimeOf(const ASN1_GENERALIZEDTIME* time);

}  // namespace keyline::ocsp::testing
