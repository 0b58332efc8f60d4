// keylinectl: Keyline's admin CLI. See README.md.
#include <CLI/CLI.hpp>

#include "cli/audit_command.h"
#include "cli/ca_command.h"
#include "cli/command_line.h"
#include "cli/device_command.h"
#include "cli/manufacturer_command.h"
#include "cli/operator_command.h"
#include "cli/revoke_command.h"
#include "cli/status_command.h"
#include "cli/voucher_command.h"

int main(int argc, char** argv) {
  CLI::App app{"keylinectl: administer a Keyline device provisioning service"};
  app.require_subcommand(1);
  keyline::cli::Invocation invocation;
  keyline::cli::AddGlobalOptions(app, invocation.globals);
  keyline::cli::AddOperatorCommands(app, invocation);
  keyline::cli::AddManufacturerCommands(app, invocation);
  keyline::cli::AddDeviceCommands(app, invocation);
  keyline::cli::AddVoucherCommands(app, invocation);
  keyline::cli::AddAuditCommands(app, invocation);
  keyline::cli::AddRevokeCommand(app, invocation);
  keyline::cli::AddCaCommands(app, invocation);
  CLI::App* status = keyline::cli::AddStatusCommand(app, invocation);
  const int exit_code = keyline::cli::RunCommandLine(app, invocation, argc, argv);
  // `status` exits 2 for "unknown"; its usage errors must not look like a verdict.
  if (exit_code == keyline::cli::kUsageExitCode && !invocation.run && status->parsed()) {
    return keyline::cli::kStatusErrorExitCode;
  }
  return exit_code;
}
