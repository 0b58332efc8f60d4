// keyline-station: the reference tool for factory line stations (DESIGN.md, "Who uses it").
//
//   keyline-station [--server ...] [--cert ...] [--key ...] [--ca ...] [--output text|json]
//     register --manufacturer M --csv FILE --out-dir DIR [--batch N]
//         serial,model,csr_file: attestation certificates from the Keyline-hosted manufacturer
//         CA M, written to DIR/<serial>.crt
//     register-external --manufacturer M --csv FILE [--batch N]
//         serial,model,chain_file: devices whose attestation chains come from vendor CA M
//
// The whole CSV is validated before the first call; a bad line refuses the run.
#include <unistd.h>

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "cli/batching.h"
#include "cli/command_line.h"
#include "cli/station_batch.h"
#include "cli/station_csv.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "keyline/v1/factory.grpc.pb.h"

namespace keyline::cli {
namespace {

using keyline::v1::FactoryService;

constexpr absl::Duration kBatchTimeout = absl::Minutes(10);

struct RegisterOptions {
  std::string manufacturer;
  std::string csv;
  std::string out_dir;
  size_t batch = 1000;
};

int Report(const GlobalOptions& globals, const RegisterOptions& options, const StationRun& run,
           bool external) {
  const OutputFormat format = globals.format();
  const StationTotals& totals = run.totals;
  if (format == OutputFormat::kJson) {
    nlohmann::json result = {{"manufacturer", options.manufacturer},
                             {"devices", totals.devices},
                             {"sent", totals.sent},
                             {"newly_registered", totals.newly_registered},
                             {"already_registered", totals.already_registered},
                             {"batches", totals.batches},
                             {"seconds", totals.seconds},
                             {"complete", run.status.ok()}};
    if (!external) result["out_dir"] = options.out_dir;
    std::cout << result.dump(2) << "\n";
  } else if (run.status.ok() || totals.batches > 0) {
    std::cout << (run.status.ok() ? "registered " : "registered (before the failure) ")
              << totals.sent << " of " << totals.devices << " devices with manufacturer "
              << options.manufacturer << ": " << totals.newly_registered << " newly registered, "
              << totals.already_registered << " already registered, in " << totals.batches
              << (totals.batches == 1 ? " batch, " : " batches, ") << std::fixed
              << std::setprecision(1) << totals.seconds << " s";
    if (!external && totals.sent > 0) std::cout << "; certificates in " << options.out_dir;
    std::cout << "\n";
  }
  if (!run.status.ok()) {
    if (totals.batches == 0) return ReportError(run.status, format);
    return ReportError(absl::Status(run.status.code(),
                                    absl::StrCat(run.status.message(),
                                                 " (the batches before it stand; running the "
                                                 "same CSV again is safe)")),
                       format);
  }
  return 0;
}

// Creates the directory if missing (an existing one keeps its mode) and checks it is writable
// before any device is registered.
absl::Status PrepareOutputDirectory(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    KEYLINE_RETURN_IF_ERROR(MakeDirectories(path, 0755));
  } else if (!std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat("--out-dir: ", path, " is not a directory"));
  }
  if (access(path.c_str(), W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(absl::StrCat("--out-dir: ", path, ": not writable"));
  }
  return absl::OkStatus();
}

int RunRegister(const GlobalOptions& globals, const RegisterOptions& options) {
  const OutputFormat format = globals.format();
  auto devices = ReadStationCsv(options.csv, StationCsvKind::kCsr);
  if (!devices.ok()) return ReportError(devices.status(), format);
  if (auto ready = PrepareOutputDirectory(options.out_dir); !ready.ok()) {
    return ReportError(ready, format);
  }
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  auto stub = FactoryService::NewStub(*channel);
  Progress progress = Progress::OnStderr("registering", static_cast<int64_t>(devices->size()));
  const StationRun run = IssueAttestationInBatches(
      *devices, options.manufacturer, options.batch, options.out_dir,
      [&](const keyline::v1::IssueAttestationCertificatesRequest& request)
          -> absl::StatusOr<keyline::v1::IssueAttestationCertificatesResponse> {
        keyline::v1::IssueAttestationCertificatesResponse response;
        auto context = ContextWithDeadline(kBatchTimeout);
        const grpc::Status status =
            stub->IssueAttestationCertificates(context.get(), request, &response);
        if (!status.ok()) return FromGrpc(status);
        return response;
      },
      progress);
  return Report(globals, options, run, /*external=*/false);
}

int RunRegisterExternal(const GlobalOptions& globals, const RegisterOptions& options) {
  const OutputFormat format = globals.format();
  auto devices = ReadStationCsv(options.csv, StationCsvKind::kChain);
  if (!devices.ok()) return ReportError(devices.status(), format);
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  auto stub = FactoryService::NewStub(*channel);
  Progress progress = Progress::OnStderr("registering", static_cast<int64_t>(devices->size()));
  const StationRun run = RegisterExternalInBatches(
      *devices, options.manufacturer, options.batch,
      [&](const keyline::v1::RegisterDevicesRequest& request)
          -> absl::StatusOr<keyline::v1::RegisterDevicesResponse> {
        keyline::v1::RegisterDevicesResponse response;
        auto context = ContextWithDeadline(kBatchTimeout);
        const grpc::Status status = stub->RegisterDevices(context.get(), request, &response);
        if (!status.ok()) return FromGrpc(status);
        return response;
      },
      progress);
  return Report(globals, options, run, /*external=*/true);
}

void AddBatchOption(CLI::App* command, size_t& batch) {
  command->add_option("--batch", batch, "devices a call (default 1000, at most 5000)")
      ->check(CLI::Range(size_t{1}, kMaxDevicesPerCall));
}

int StationMain(int argc, char** argv) {
  CLI::App app{"keyline-station: register devices from a factory line station"};
  app.require_subcommand(1);
  Invocation invocation;
  AddGlobalOptions(app, invocation.globals);

  auto hosted = std::make_shared<RegisterOptions>();
  auto* register_command = app.add_subcommand(
      "register", "attestation certificates from a Keyline-hosted manufacturer CA "
                  "(CSV: serial,model,csr_file)");
  register_command->add_option("--manufacturer", hosted->manufacturer,
                               "Keyline-hosted manufacturer, e.g. keyline")
      ->required();
  register_command->add_option("--csv", hosted->csv, "serial,model,csr_file")->required();
  register_command->add_option("--out-dir", hosted->out_dir,
                               "where <serial>.crt files (PEM with the CA chain) go")
      ->required();
  AddBatchOption(register_command, hosted->batch);
  OnRun(register_command, invocation,
        [&invocation, hosted] { return RunRegister(invocation.globals, *hosted); });

  auto external = std::make_shared<RegisterOptions>();
  auto* external_command = app.add_subcommand(
      "register-external",
      "devices attested by an external vendor CA (CSV: serial,model,chain_file)");
  external_command->add_option("--manufacturer", external->manufacturer,
                               "manufacturer an admin added with its trust anchor")
      ->required();
  external_command->add_option("--csv", external->csv, "serial,model,chain_file")->required();
  AddBatchOption(external_command, external->batch);
  OnRun(external_command, invocation,
        [&invocation, external] { return RunRegisterExternal(invocation.globals, *external); });

  return RunCommandLine(app, invocation, argc, argv);
}

}  // namespace
}  // namespace keyline::cli

int main(int argc, char** argv) { return keyline::cli::StationMain(argc, argv); }
