// What keylinectl and keyline-station share on the command line: the connection and --output
// options, and how a chosen subcommand runs once CLI11 has parsed everything.
//
// Each command group registers its subcommands with AddXCommands(parent, invocation); the parse
// callback of the chosen subcommand stores what to run in `invocation.run`, and RunCommandLine
// runs it after parsing succeeded. Exit codes: 0 success, 1 an error the command reported
// (ReportError), 2 a usage error (CLI11's message on stderr).
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/connection.h"
#include "cli/output.h"

namespace keyline::cli {

inline constexpr int kUsageExitCode = 2;

struct GlobalOptions {
  ConnectionOptions connection;
  std::string output = "text";

  OutputFormat format() const {
    return output == "json" ? OutputFormat::kJson : OutputFormat::kText;
  }
};

struct Invocation {
  GlobalOptions globals;
  std::function<int()> run;  // set by the chosen subcommand's callback
};

// --server, --cert, --key, --ca (defaults from KEYLINE_SERVER, KEYLINE_CERT, KEYLINE_KEY,
// KEYLINE_CA) and --output text|json, before or after the subcommand. Call before adding
// subcommands.
void AddGlobalOptions(CLI::App& app, GlobalOptions& globals);

// Makes `command` set invocation.run to `run` when it is the subcommand chosen.
void OnRun(CLI::App* command, Invocation& invocation, std::function<int()> run);

// Parses argv and runs the chosen command. --help exits 0; usage errors exit 2.
int RunCommandLine(CLI::App& app, Invocation& invocation, int argc, char** argv);

// A usage error found after parsing (e.g. two options that only make sense together): prints
// "error: <message>" and "Run with --help for more information." to stderr and returns 2.
int ReportUsageError(const std::string& message);

}  // namespace keyline::cli
