#include "common/openssl_error.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline {

std::string DrainOpenSslErrors() {
  std::string text;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "no OpenSSL error recorded" : text;
}

absl::Status OpenSslError(absl::StatusCode code, std::string_view context) {
  return absl::Status(code, absl::StrCat(AsAbsl(context), ": ", DrainOpenSslErrors()));
}

}  // namespace keyline
