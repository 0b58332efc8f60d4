// keylinectl operator issue --role ROLE --name NAME (--csr FILE | --out-key FILE) [--out-cert FILE]
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/command_line.h"
#include "cli/connection.h"
#include "cli/output.h"

namespace keyline::cli {

struct OperatorIssueOptions {
  std::string role;
  std::string name;
  std::string csr_file;   // PKCS#10, DER or PEM
  std::string out_key;    // generate an EC P-256 key here (mode 0600) instead of --csr
  std::string out_cert;   // where to write the PEM chain; stdout when empty
};

// Returns the process exit code.
int RunOperatorIssue(const ConnectionOptions& connection, OutputFormat format,
                     const OperatorIssueOptions& options);

//   operator issue --role ROLE --name NAME (--csr FILE | --out-key FILE) [--out-cert FILE]
void AddOperatorCommands(CLI::App& app, Invocation& invocation);

}  // namespace keyline::cli
