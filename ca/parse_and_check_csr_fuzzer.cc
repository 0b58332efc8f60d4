// libFuzzer target for ParseAndCheckCsr, the parser of every CSR a caller sends.
// Beyond "no crash, no leak, no UB": a DER request the policy accepts must also be one OpenSSL's
// own parser reads and whose signature OpenSSL verifies (our templates may be stricter, never
// laxer), and the key it yields must copy into a certificate.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <openssl/x509.h>

#include "ca/csr_policy.h"
#include "common/openssl_ptr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto accepted = keyline::ca::ParseAndCheckCsr(input);
  if (!accepted.ok()) return 0;

  keyline::X509Ptr certificate(X509_new());
  if (!accepted->public_key.CopyInto(certificate.get()).ok()) __builtin_trap();
  if (accepted->key_type.empty() || accepted->public_key.key_bits().empty()) __builtin_trap();

  if (input.rfind("-----", 0) == 0) return 0;  // PEM: the DER inside was checked the same way
  const unsigned char* cursor = data;
  keyline::X509ReqPtr request(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(size)));
  if (!request) __builtin_trap();
  keyline::EvpPkeyPtr key(X509_REQ_get_pubkey(request.get()));
  if (!key || X509_REQ_verify(request.get(), key.get()) != 1) __builtin_trap();
  if (EVP_PKEY_eq(key.get(), accepted->public_key.key()) != 1) __builtin_trap();
  return 0;
}
