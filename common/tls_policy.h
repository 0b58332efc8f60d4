// TLS 1.3 only, for every TLS context this process creates (gRPC's included).
//
// gRPC 1.51's public C++ API cannot set a minimum TLS version, and it calls
// SSL_CTX_set_min_proto_version(TLS1_2) on its own contexts. OpenSSL applies the
// "system_default" section of its configuration to every new SSL_CTX, and the
// "Protocol = -ALL, TLSv1.3" command there is recorded as SSL_OP_NO_* options, which a later
// minimum version does not clear. So loading that configuration once, before any TLS context is
// made, confines gRPC to TLS 1.3.
#pragma once

#include "absl/status/status.h"

namespace keyline {

// Idempotent. Call before creating any gRPC credentials.
[[nodiscard]] absl::Status RequireTls13ForThisProcess();

}  // namespace keyline
