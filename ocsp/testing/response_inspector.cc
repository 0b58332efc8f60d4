#include "ocsp/testing/response_inspector.h"

#include <openssl/ocsp.h>

#include <ctime>

#include "common/openssl_error.h"

namespace keyline::ocsp::testing {

absl::Time TimeOf(const ASN1_GENERALIZEDTIME* time) {
  if (time == nullptr) return absl::InfinitePast();
  struct tm parts {};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return absl::InfinitePast();
  return absl::FromTimeT(timegm(&parts));
}

int ResponseStatusOf(std::string_view der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &cursor, static_cast<long>(der.size())));
  if (!response) return -1;
  return OCSP_response_status(response.get());
}

absl::StatusOr<FoundStatus> VerifyAndFind(std::string_view der, const TestPki& pki, X509* leaf,
                                          const EVP_MD* md) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  OcspResponsePtr response(d2i_OCSP_RESPONSE(nullptr, &cursor, static_cast<long>(der.size())));
  if (!response) return OpenSslError(absl::StatusCode::kFailedPrecondition, "d2i_OCSP_RESPONSE");
  if (cursor != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return absl::FailedPreconditionError("trailing bytes after the OCSPResponse");
  }
  if (OCSP_response_status(response.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return absl::FailedPreconditionError("response status is not successful");
  }
  FoundStatus found;
  found.basic.reset(OCSP_response_get1_basic(response.get()));
  if (!found.basic) return OpenSslError(absl::StatusCode::kFailedPrecondition, "basic response");

  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), pki.root());
  X509_STORE_add_cert(store.get(), pki.ca());
  if (OCSP_basic_verify(found.basic.get(), nullptr, store.get(), 0) != 1) {
    return OpenSslError(absl::StatusCode::kFailedPrecondition, "OCSP_basic_verify");
  }
  found.signature_nid = OBJ_obj2nid(OCSP_resp_get0_tbs_sigalg(found.basic.get())->algorithm);
  found.single_count = OCSP_resp_count(found.basic.get());
  found.produced_at = TimeOf(OCSP_resp_get0_produced_at(found.basic.get()));

  OCSP_CERTID* id = OCSP_cert_to_id(md, leaf, pki.ca());
  OcspCertIdPtr owned_id(id);
  ASN1_GENERALIZEDTIME* revoked = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  if (OCSP_resp_find_status(found.basic.get(), id, &found.status, &found.reason, &revoked,
                            &this_update, &next_update) != 1) {
    return absl::FailedPreconditionError("OCSP_resp_find_status: certificate not in response");
  }
  found.revoked_at = TimeOf(revoked);
  found.this_update = TimeOf(this_update);
  found.next_update = TimeOf(next_update);
  return found;
}

}  // namespace keyline::ocsp::testing
