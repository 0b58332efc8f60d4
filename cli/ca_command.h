// keylinectl ca rotate: a deployment's next CA (DESIGN.md, "CA rotation").
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_line.h"

namespace keyline::cli {

//   ca rotate --deployment D   (new key in the HSM and certificate; the old CA
//   is retired and
//                               keeps signing CRLs and OCSP for its
//                               certificates)
void AddCaCommands(CLI::App& app, Invocation& invocation);

}  // namespace keyline::cli
