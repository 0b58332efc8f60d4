#include "store/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "common/openssl_ptr.h"

namespace keyline::store {

std::string Sha256(std::string_view data) { return Sha256(data, {}); }

namespace {

// Fetched once: OpenSSL 3 looks the implementation up on every EVP_sha256() init otherwise,
// which costs more than hashing a short message. An EVP_MD is immutable and thread-safe.
const EVP_MD* Sha256Implementation() {
  static const EVP_MD* const implementation = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return implementation;
}

}  // namespace

std::string Sha256(std::string_view first, std::string_view second) {
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  std::string digest(kSha256Size, '\0');
  unsigned int length = 0;
  // Failure here means OpenSSL could not allocate or has no SHA-256: nothing a caller can handle,
  // and returning a wrong digest would silently break the audit chain.
  if (!context || Sha256Implementation() == nullptr ||
      EVP_DigestInit_ex(context.get(), Sha256Implementation(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), first.data(), first.size()) != 1 ||
      EVP_DigestUpdate(context.get(), second.data(), second.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), reinterpret_cast<unsigned char*>(digest.data()), &length) !=
          1 ||
      length != kSha256Size) {
    std::abort();
  }
  return digest;
}

}  // namespace keyline::store
