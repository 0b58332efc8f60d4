// `keyline-server init` and `keyline-server migrate`.
#pragma once

#include "absl/status/status.h"
#include "server/config.h"

namespace keyline::server {

struct InitOptions {
  // Issue the bootstrap admin credential again although one was issued before and its files are
  // gone (see EnsureBootstrapAdmin): for when every admin credential is lost.
  bool reissue_admin = false;
};

// Idempotent: creates the bundled SoftHSM2 token (if configured), migrates the database, creates
// the CA hierarchy in the HSM, issues the server's TLS certificate and the bootstrap admin
// credential. Running it again changes only what is missing or about to expire; a bootstrap
// admin credential moved off the server is not issued again unless asked.
[[nodiscard]] absl::Status RunInit(const Config& config, const InitOptions& options = {});

// Applies pending migrations as the owner role (database.migration_url).
[[nodiscard]] absl::Status RunMigrate(const Config& config);

}  // namespace keyline::server
