// `keyline-server init` and `keyline-server migrate`.
#pragma once

#include "absl/status/status.h"
#include "server/config.h"

namespace keyline::server {

// Idempotent: creates the bundled SoftHSM2 token (if configured), migrates the database, creates
// the CA hierarchy in the HSM, issues the server's TLS certificate and the bootstrap admin
// credential. Running it again changes only what is missing or about to expire.
[[nodiscard]] absl::Status RunInit(const Config& config);

// Applies pending migrations as the owner role (database.migration_url).
[[nodiscard]] absl::Status RunMigrate(const Config& config);

}  // namespace keyline::server
