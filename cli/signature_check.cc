#include "cli/signature_check.h"

#include <openssl/err.h>

#include "common/openssl_ptr.h"

namespace keyline::cli {

bool EcdsaSha256Verifies(EVP_PKEY* public_key, std::string_view message,
                         std::string_view signature) {
  if (public_key == nullptr || EVP_PKEY_base_id(public_key) != EVP_PKEY_EC) return false;
  EvpMdCtxPtr context(EVP_MD_CTX_new());
  const bool verified =
      context &&
      EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, public_key) == 1 &&
      EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  ERR_clear_error();
  return verified;
}

}  // namespace keyline::cli
