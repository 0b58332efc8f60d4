// keylinectl revoke: certificates by serial, devices (all their certificates), or a batch file,
// through AdminService.Revoke in ONE call, so the whole list is one transaction: either every
// target is revoked or nothing is (DESIGN.md, "Revocation and status"). Manufacturers are
// revoked with `keylinectl manufacturer revoke`.
//
// Everything is checked locally first (cli/revocation_batch_file.h: hex, reasons, repeats, at
// most 100,000 targets, --invalidity-date not in the future); a refusal names the flag or
// FILE:LINE and sends nothing. A server error naming targets[i] (an unknown serial or device)
// is reported with that target's flag or FILE:LINE.
//
// Revoking a certificate that is already revoked changes nothing and is not an error: it is
// counted as "already revoked" (the first reason and time stand). --dry-run asks the server what
// would change (each certificate with issuer, profile, device and reason) and changes nothing.
//
// Output: a table of the certificates newly revoked (or that would be) and a summary with counts
// by issuer; --output json prints one JSON document instead. On a terminal, stderr shows
// "sending N targets... done". Exit codes: 0 success (including "already revoked"), 1 refused
// (locally or by the server: the whole list changed nothing), 2 usage error.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_line.h"

namespace keyline::cli {

//   revoke (--serial HEX ... | --device SERIAL ... | --batch FILE) [--reason NAME]
//          [--invalidity-date RFC3339] [--dry-run]
void AddRevokeCommand(CLI::App& app, Invocation& invocation);

}  // namespace keyline::cli
