#include "cli/command_line.h"

#include <cstdlib>
#include <iostream>

namespace keyline::cli {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

void AddGlobalOptions(CLI::App& app, GlobalOptions& globals) {
  ConnectionOptions& connection = globals.connection;
  connection.server = EnvOr("KEYLINE_SERVER", connection.server);
  connection.certificate_file = EnvOr("KEYLINE_CERT", "");
  connection.key_file = EnvOr("KEYLINE_KEY", "");
  connection.ca_file = EnvOr("KEYLINE_CA", "");
  app.add_option("--server", connection.server, "host:port of keyline-server (env KEYLINE_SERVER)");
  app.add_option("--cert", connection.certificate_file,
                 "PEM operator certificate chain (env KEYLINE_CERT)");
  app.add_option("--key", connection.key_file, "PEM private key (env KEYLINE_KEY)");
  app.add_option("--ca", connection.ca_file, "PEM root certificate to trust (env KEYLINE_CA)");
  app.add_option("--output", globals.output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  // These options may also follow the subcommand ("keylinectl device show --serial S --output
  // json"); subcommands added afterwards inherit this.
  app.fallthrough();
}

void OnRun(CLI::App* command, Invocation& invocation, std::function<int()> run) {
  command->callback([&invocation, run = std::move(run)] { invocation.run = run; });
}

int RunCommandLine(CLI::App& app, Invocation& invocation, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    app.exit(error);  // prints the message and the --help hint
    return kUsageExitCode;
  }
  if (!invocation.run) return ReportUsageError("no command given");
  return invocation.run();
}

int ReportUsageError(const std::string& message) {
  std::cerr << "error: " << message << "\nRun with --help for more information.\n";
  return kUsageExitCode;
}

}  // namespace keyline::cli
