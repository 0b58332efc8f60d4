// keylinectl device claim|show|decommission (DESIGN.md, "Ownership").
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_line.h"

namespace keyline::cli {

//   device claim --deployment D (--serial S ... | --serials-file FILE) [--validity-days N]
//                [--batch N] [--dry-run]
//   device show --serial S
//   device decommission (--serial S ... | --serials-file FILE) [--reason TEXT] [--dry-run]
void AddDeviceCommands(CLI::App& app, Invocation& invocation);

}  // namespace keyline::cli
