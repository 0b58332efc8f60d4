// keylinectl manufacturer add|list|revoke: the trust anchors attestation chains must end at
// (DESIGN.md, "Trust model": attestation only, each can be distrusted).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_line.h"

namespace keyline::cli {

//   manufacturer add --name N --trust-anchor FILE     (PEM or DER CA certificate)
//   manufacturer list
//   manufacturer revoke --name N [--reason TEXT] [--dry-run]
void AddManufacturerCommands(CLI::App& app, Invocation& invocation);

}  // namespace keyline::cli
