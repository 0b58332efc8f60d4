#include "common/digests.h"

#include <cstdlib>

namespace keyline {
namespace {

const EVP_MD* FetchOrAbort(const char* name) {
  EVP_MD* digest = EVP_MD_fetch(nullptr, name, nullptr);
  if (digest == nullptr) std::abort();
  return digest;  // kept for the life of the process
}

}  // namespace

const EVP_MD* Sha1Digest() {
  static const EVP_MD* const digest = FetchOrAbort("SHA1");
  return digest;
}

const EVP_MD* Sha256Digest() {
  static const EVP_MD* const digest = FetchOrAbort("SHA256");
  return digest;
}

const EVP_MD* Sha384Digest() {
  static const EVP_MD* const digest = FetchOrAbort("SHA384");
  return digest;
}

}  // namespace keyline
