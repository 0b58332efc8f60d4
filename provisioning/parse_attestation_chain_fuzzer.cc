// libFuzzer target for the attestation evidence a device presents: the input is cut into
// certificates by 2-octet big-endian length prefixes (how the fuzzer explores chains of several
// DER blobs), parsed with ParseAttestationChain, and a parsed chain is verified against an anchor
// and hashed, as BeginEnrollment does.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/time/clock.h"
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
  auto chain = keyline::provisioning::ParseAttestationChain(certificates, "attestation_chain");
  if (!chain.ok()) return 0;
  if (chain->der.size() != certificates.size() || !chain->leaf) __builtin_trap();
  // The leaf as its own anchor exercises path validation without a second certificate.
  (void)keyline::provisioning::VerifyAttestationChain(*chain, chain->leaf.get(), absl::Now(),
                                                      "attestation_chain");
  (void)keyline::provisioning::AttestationKeyHash(chain->leaf.get());
  return 0;
}
