// keylinectl audit tail|verify (DESIGN.md, "Audit").
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_line.h"

namespace keyline::cli {

//   audit tail [-n 20]   newest first: seq, time, actor, action, target
//   audit verify         recompute the hash chain and check the signed checkpoints against the
//                        --ca root; exit 1 naming the first row altered, removed or reordered
void AddAuditCommands(CLI::App& app, Invocation& invocation);

}  // namespace keyline::cli
