// keylinectl device claim: a deployment claims registered devices of a Keyline-hosted
// manufacturer, which signs an ownership voucher for each (DESIGN.md, "Ownership"). Calls of at
// most 5,000 devices, each atomic; --dry-run shows every device's state and owner and what the
// claim would do to it, and changes nothing.
#pragma once

#include <string>
#include <vector>

#include "cli/batching.h"
#include "cli/command_line.h"

namespace keyline::cli {

struct ClaimOptions {
  std::string deployment;
  std::vector<std::string> serials;  // --serial, or
  std::string serials_file;          // --serials-file
  int validity_days = 0;             // 0: the server's default (365)
  size_t batch = kMaxDevicesPerCall;
  bool dry_run = false;
};

// Returns the exit code: 0, or 1 after ReportError (also when a dry run finds a device the claim
// would refuse).
int RunClaim(const GlobalOptions& globals, const ClaimOptions& options);

}  // namespace keyline::cli
