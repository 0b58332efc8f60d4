#include "store/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "common/digests.h"
#include "common/openssl_ptr.h"

namespace keyline::store {

std::string Sha256(std::string_view data) { return Sha256(data, {}); }

std::string Sha256(std::string_view first, std::string_view second) {
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  std::string digest(kSha256Size, '\0');
  unsigned int length = 0;
  // Failure here means OpenSSL could not allocate or has no SHA-256: nothing a caller can handle,
  // and returning a wrong digest would silently break the audit chain.
  if (!context || EVP_DigestInit_ex(context.get(), Sha256Digest(), nullptr) != 1 ||
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
