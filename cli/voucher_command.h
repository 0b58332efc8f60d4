// keylinectl voucher export|import: moving ownership vouchers between Keylines.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/command_line.h"

namespace keyline::cli {

//   voucher export (--serial S ... | --serials-file FILE) --out FILE
//   voucher import --in FILE [--dry-run]
void AddVoucherCommands(CLI::App& app, Invocation& invocation);

}  // namespace keyline::cli
