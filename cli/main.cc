// keylinectl: Keyline's admin CLI. See README.md.
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/connection.h"
#include "cli/operator_command.h"
#include "cli/output.h"

namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"keylinectl: administer a Keyline device provisioning service"};
  app.require_subcommand(1);
  keyline::cli::ConnectionOptions connection;
  connection.server = EnvOr("KEYLINE_SERVER", connection.server);
  connection.certificate_file = EnvOr("KEYLINE_CERT", "");
  connection.key_file = EnvOr("KEYLINE_KEY", "");
  connection.ca_file = EnvOr("KEYLINE_CA", "");
  std::string output = "text";
  app.add_option("--server", connection.server, "host:port of keyline-server (env KEYLINE_SERVER)");
  app.add_option("--cert", connection.certificate_file,
                 "PEM operator certificate chain (env KEYLINE_CERT)");
  app.add_option("--key", connection.key_file, "PEM private key (env KEYLINE_KEY)");
  app.add_option("--ca", connection.ca_file, "PEM root certificate to trust (env KEYLINE_CA)");
  app.add_option("--output", output, "text or json")->check(CLI::IsMember({"text", "json"}));

  auto* operator_command = app.add_subcommand("operator", "operator certificates");
  operator_command->require_subcommand(1);
  keyline::cli::OperatorIssueOptions issue;
  auto* issue_command =
      operator_command->add_subcommand("issue", "issue an operator certificate (admin role)");
  issue_command->add_option("--role", issue.role, "admin, factory or gateway")->required();
  issue_command->add_option("--name", issue.name, "operator name, e.g. line-3")->required();
  issue_command->add_option("--csr", issue.csr_file, "PKCS#10 request (DER or PEM)");
  issue_command->add_option("--out-key", issue.out_key,
                            "generate a P-256 key here (mode 0600) instead of --csr");
  issue_command->add_option("--out-cert", issue.out_cert, "write the PEM chain here");

  CLI11_PARSE(app, argc, argv);
  const auto format =
      output == "json" ? keyline::cli::OutputFormat::kJson : keyline::cli::OutputFormat::kText;
  if (*issue_command) return keyline::cli::RunOperatorIssue(connection, format, issue);
  return 2;
}
