// libFuzzer target for ParseOcspRequest, the parser of every OCSP request body and GET path.
// Beyond "no crash, no leak, no UB": what we accept OpenSSL must read too, as DER (it encodes back
// to the same bytes), with the same number of CertIDs, and every CertID we return must be a
// substring of the input with a serial that has no leading zero octet.
#include <openssl/ocsp.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/openssl_ptr.h"
#include "ocsp/ocsp_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = keyline::ocsp::ParseOcspRequest(input);
  if (!parsed.ok()) return 0;

  const unsigned char* cursor = data;
  keyline::OcspRequestPtr request(d2i_OCSP_REQUEST(nullptr, &cursor, static_cast<long>(size)));
  if (!request || cursor != data + size) __builtin_trap();
  unsigned char* reencoded = nullptr;
  const int length = i2d_OCSP_REQUEST(request.get(), &reencoded);
  const bool same = length == static_cast<int>(size) &&
                    std::string_view(reinterpret_cast<char*>(reencoded), size) == input;
  OPENSSL_free(reencoded);
  if (!same) __builtin_trap();
  if (parsed->cert_ids.empty() ||
      static_cast<int>(parsed->cert_ids.size()) != OCSP_request_onereq_count(request.get())) {
    __builtin_trap();
  }
  for (const auto& id : parsed->cert_ids) {
    if (input.find(id.der) == std::string_view::npos) __builtin_trap();
    if (id.serial.empty() || id.serial[0] == '\0') __builtin_trap();
  }
  if (parsed->nonce.has_value() &&
      (parsed->nonce->empty() || parsed->nonce->size() > keyline::ocsp::kMaxNonceBytes)) {
    __builtin_trap();
  }
  return 0;
}
