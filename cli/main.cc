// keylinectl: Keyline's admin CLI. See README.md.
#include <CLI/CLI.hpp>

#include "cli/audit_command.h"
#include "cli/command_line.h"
#include "cli/device_command.h"
#include "cli/manufacturer_command.h"
#include "cli/operator_command.h"
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
  return keyline::cli::RunCommandLine(app, invocation, argc, argv);
}
