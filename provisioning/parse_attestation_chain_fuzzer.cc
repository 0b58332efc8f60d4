// libFuzzer target for the attestation evidence a device presents: the input is cut into
// certificates by 2-octet big-endian length prefixes (how the fuzzer explores chains of several
// DER blobs), parsed with ParseAttestationChain, and a parsed chain is verified against an anchor
// and hashed, as BeginEnrollment does. The outline reader (OutlineAttestationChain) runs on the
// same input: where it and OpenSSL both read a certificate, they must agree on its dates and key
// (BeginEnrollment trusts the outline's dates, and CompleteEnrollment its key, for registered
// chains).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/certificate_outline.h"
#include "ca/public_key_decoder.h"
#include "provisioning/attestation_chain.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> certificates;
  size_t at = 0;
  while (at + 2 <= size && certificates.size() < 16) {
    const size_t length = (static_cast<size_t>(data[at]) << 8) | data[at + 1];
    at += 2;
    const size_t take = std::min(length, size - at);
    certificates.emplace_back(reinterpret_cast<const char*>(data + at), take);
    at += take;
  }
  (void)keyline::provisioning::OutlineAttestationChain(certificates, "attestation_chain");
  for (std::string_view der : certificates) {
    auto parsed = keyline::ca::ParseCertificateDer(der);
    auto outline = keyline::ca::ReadCertificateOutline(der);
    if (!parsed.ok() || !outline.ok()) continue;
    // Where both read a certificate, they read the same dates (OpenSSL parses a malformed time
    // and refuses it only when validating) and the same key.
    const absl::Time not_before = keyline::ca::NotBeforeOf(parsed->get());
    const absl::Time not_after = keyline::ca::NotAfterOf(parsed->get());
    if (not_before != absl::InfinitePast() && outline->not_before != not_before) __builtin_trap();
    if (not_after != absl::InfinitePast() && outline->not_after != not_after) __builtin_trap();
    EVP_PKEY* openssl_key = X509_get0_pubkey(parsed->get());
    auto our_key = keyline::ca::DecodePublicKeyDer(outline->public_key_info_der, "key");
    if (openssl_key != nullptr && our_key.ok() && EVP_PKEY_eq(openssl_key, our_key->get()) != 1) {
      __builtin_trap();
    }
  }
  auto chain = keyline::provisioning::ParseAttestationChain(certificates, "attestation_chain");
  if (!chain.ok()) return 0;
  if (chain->der.size() != certificates.size() || !chain->leaf) __builtin_trap();
  // The leaf as its own anchor exercises path validation without a second certificate.
  (void)keyline::provisioning::VerifyAttestationChain(*chain, chain->leaf.get(), absl::Now(),
                                                      "attestation_chain");
  (void)keyline::provisioning::AttestationKeyHash(chain->leaf.get());
  return 0;
}
