// RFC 7512 "pkcs11:" URIs, as accepted in configuration to name a token or a key, e.g.
//   pkcs11:token=keyline;object=deployment-default?module-path=/usr/lib/softhsm/libsofthsm2.so
// Path attributes (';'-separated) and query attributes ('&'-separated) are percent-decoded.
// Unknown path attributes are refused (RFC 7512 section 2.3 lets us ignore them, but a typo in a
// key name must not silently select a different key). "pin-value" is refused too: PINs come from
// files or the environment, never from configuration text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace keyline::hsm {

struct Pkcs11Uri {
  std::optional<std::string> token;         // CKA_LABEL of the token (path "token")
  std::optional<std::string> manufacturer;  // path "manufacturer"
  std::optional<std::string> serial;        // path "serial"
  std::optional<std::string> model;         // path "model"
  std::optional<std::string> object;        // CKA_LABEL of the object (path "object")
  std::optional<std::string> id;            // CKA_ID raw bytes (path "id", percent-encoded)
  std::optional<std::string> type;          // "private", "public", "cert", "secret-key", "data"
  std::optional<std::string> module_path;   // query "module-path"
  std::optional<std::string> module_name;   // query "module-name"
  std::optional<std::string> pin_source;    // query "pin-source": "file:/path" or "env:NAME"
};

// InvalidArgument naming the attribute on: missing "pkcs11:" scheme, bad percent-encoding,
// an attribute given twice, an unknown path attribute, pin-value, or an unknown type.
[[nodiscard]] absl::StatusOr<Pkcs11Uri> ParsePkcs11Uri(std::string_view uri);

}  // namespace keyline::hsm
