// Runs an OpenSSL i2d-style encoder (`int encode(unsigned char** out)`) and returns the DER.
#pragma once

#include <string>
#include <string_view>

#include <openssl/crypto.h>

#include "absl/status/statusor.h"
#include "common/openssl_error.h"

namespace keyline {

template <typename Encode>
[[nodiscard]] absl::StatusOr<std::string> EncodeDer(Encode&& encode, std::string_view what) {
  unsigned char* der = nullptr;
  const int length = encode(&der);
  if (length <= 0 || der == nullptr) return OpenSslError(absl::StatusCode::kInternal, what);
  std::string result(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return result;
}

}  // namespace keyline
