#include "cli/device_command.h"

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/batching.h"
#include "cli/device_claim.h"
#include "cli/device_lookup.h"
#include "cli/serial_list.h"
#include "common/status_macros.h"
#include "keyline/v1/admin.grpc.pb.h"

namespace keyline::cli {
namespace {

using keyline::v1::AdminService;
using keyline::v1::Device;

constexpr absl::Duration kTimeout = absl::Seconds(60);
constexpr size_t kMaxReasonLength = 256;

struct DecommissionOptions {
  std::vector<std::string> serials;
  std::string serials_file;
  std::string reason;
  bool dry_run = false;
};

absl::Status CheckReason(const std::string& reason) {
  if (reason.size() > kMaxReasonLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("--reason: at most ", kMaxReasonLength, " characters"));
  }
  return absl::OkStatus();
}

// ---- show -----------------------------------------------------------------------------------

void PrintDevice(const Device& device) {
  PrintTable(std::cout,
             {{"serial:", device.device_serial()},
              {"manufacturer:", device.manufacturer()},
              {"model:", device.hardware_model()},
              {"state:", device.state()},
              {"deployment:", OwnerText(device)},
              {"certificates:", device.certificate_serials().empty()
                                    ? "none"
                                    : absl::StrJoin(device.certificate_serials(), ", ")}});
}

int RunShow(const GlobalOptions& globals, const std::string& serial) {
  const OutputFormat format = globals.format();
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  keyline::v1::GetDeviceRequest request;
  request.set_device_serial(serial);
  Device device;
  auto context = ContextWithDeadline(kTimeout);
  const grpc::Status status =
      AdminService::NewStub(*channel)->GetDevice(context.get(), request, &device);
  if (!status.ok()) return ReportError(status, format);
  if (format == OutputFormat::kJson) {
    std::cout << DeviceJson(device).dump(2) << "\n";
  } else {
    PrintDevice(device);
  }
  return 0;
}

// ---- decommission ---------------------------------------------------------------------------

int RunDecommissionDryRun(AdminService::Stub& stub, OutputFormat format,
                          const std::vector<std::string>& serials) {
  Progress progress =
      Progress::OnStderr("looking up devices", static_cast<int64_t>(serials.size()));
  const auto devices = LookUpDevices(stub, serials, progress);
  progress.Finish();
  int would_change = 0;
  int unchanged = 0;
  int unknown = 0;
  size_t certificates = 0;
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows = {
      {"SERIAL", "STATE", "OWNER", "GOOD CERTIFICATES", "WOULD"}};
  for (size_t i = 0; i < serials.size(); ++i) {
    const auto& device = devices[i];
    if (!device.ok() && !absl::IsNotFound(device.status())) {
      return ReportError(
          absl::Status(device.status().code(),
                       absl::StrCat("GetDevice ", serials[i], ": ", device.status().message())),
          format);
    }
    std::string action;
    if (!device.ok()) {
      action = "refuse: unknown device";
      ++unknown;
    } else if (device->state() == "decommissioned") {
      action = "nothing (already decommissioned)";
      ++unchanged;
    } else {
      action = absl::StrCat("decommission, revoking ", device->good_certificate_serials_size(),
                            " certificate(s)");
      certificates += static_cast<size_t>(device->good_certificate_serials_size());
      ++would_change;
    }
    if (format == OutputFormat::kJson) {
      nlohmann::json entry =
          device.ok() ? DeviceJson(*device) : nlohmann::json{{"serial", serials[i]}};
      entry["would"] = action;
      list.push_back(entry);
    } else {
      rows.push_back({serials[i], device.ok() ? device->state() : "-",
                      device.ok() ? OwnerText(*device) : "-",
                      device.ok() ? absl::StrCat(device->good_certificate_serials_size(), " of ",
                                                 device->certificate_serials_size())
                                  : "-",
                      action});
    }
  }
  if (format == OutputFormat::kJson) {
    std::cout << nlohmann::json{{"dry_run", true},
                                {"devices", list},
                                {"would_decommission", would_change},
                                {"already_decommissioned", unchanged},
                                {"unknown", unknown},
                                {"certificates_to_revoke", certificates}}
                     .dump(2)
              << "\n";
  } else {
    PrintTable(std::cout, rows);
    std::cout << "dry run: " << would_change << " would be decommissioned (" << certificates
              << " certificates revoked), " << unchanged << " already decommissioned, " << unknown
              << " unknown; nothing changed\n";
  }
  if (unknown > 0) {
    return ReportError(
        absl::NotFoundError(absl::StrCat(unknown, " of ", serials.size(), " devices are unknown")),
        format);
  }
  return 0;
}

int RunDecommission(const GlobalOptions& globals, const DecommissionOptions& options) {
  const OutputFormat format = globals.format();
  if (auto status = CheckReason(options.reason); !status.ok()) return ReportError(status, format);
  auto serials = CollectSerials(options.serials, options.serials_file);
  if (!serials.ok()) return ReportError(serials.status(), format);
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  auto stub = AdminService::NewStub(*channel);
  if (options.dry_run) return RunDecommissionDryRun(*stub, format, *serials);

  // One call a device (DecommissionDevice takes one); stops at the first failure.
  Progress progress = Progress::OnStderr("decommissioning", static_cast<int64_t>(serials->size()));
  nlohmann::json list = nlohmann::json::array();
  size_t certificates = 0;
  size_t done = 0;
  size_t already = 0;  // of done: decommissioned before this run
  absl::Status failure;
  for (const std::string& serial : *serials) {
    keyline::v1::DecommissionDeviceRequest request;
    request.set_device_serial(serial);
    request.set_reason(options.reason);
    Device device;
    auto context = ContextWithDeadline(kTimeout);
    failure = FromGrpc(stub->DecommissionDevice(context.get(), request, &device));
    if (!failure.ok()) {
      failure = absl::Status(failure.code(), absl::StrCat(serial, ": ", failure.message()));
      break;
    }
    ++done;
    // A server older than these fields decommissions the same way but does not say what it did.
    const bool reported = device.has_decommissioned_now();
    if (reported && !device.decommissioned_now()) ++already;
    certificates += static_cast<size_t>(device.revoked_certificate_serials_size());
    if (format == OutputFormat::kJson) {
      nlohmann::json entry = DeviceJson(device);
      entry["decommissioned_now"] =
          reported ? nlohmann::json(device.decommissioned_now()) : nlohmann::json();
      entry["revoked_certificate_serials"] = std::vector<std::string>(
          device.revoked_certificate_serials().begin(), device.revoked_certificate_serials().end());
      list.push_back(std::move(entry));
    } else {
      progress.Finish();  // the line goes where the bar was; the next Advance redraws it
      if (!reported) {
        std::cout << "decommissioned " << serial << " (owner " << OwnerText(device)
                  << "; this server does not report what it revoked)\n";
      } else if (device.decommissioned_now()) {
        std::cout << "decommissioned " << serial << " (owner " << OwnerText(device) << ", "
                  << device.revoked_certificate_serials_size() << " certificate(s) revoked)\n";
      } else {
        std::cout << serial << " was already decommissioned; nothing changed\n";
      }
    }
    progress.Advance(1);
  }
  progress.Finish();
  if (format == OutputFormat::kJson) {
    std::cout << nlohmann::json{{"devices", list},
                                {"decommissioned", done - already},
                                {"already_decommissioned", already},
                                {"certificates_revoked", certificates}}
                     .dump(2)
              << "\n";
  } else if (serials->size() > 1) {
    std::cout << "decommissioned " << done - already << " of " << serials->size() << " devices ("
              << already << " already were), " << certificates << " certificates revoked\n";
  }
  if (!failure.ok()) {
    return ReportError(
        absl::Status(failure.code(), absl::StrCat(failure.message(), " (stopped after ", done,
                                                  " of ", serials->size(), " devices)")),
        format);
  }
  return 0;
}

void AddSerialOptions(CLI::App* command, std::vector<std::string>& serials, std::string& file) {
  auto* source = command->add_option_group("devices", "which devices");
  source->add_option("--serial", serials, "a device serial (repeatable)");
  source->add_option("--serials-file", file,
                     "one serial a line ('#' comments and blank lines skipped)");
  source->require_option(1);
}

}  // namespace

void AddDeviceCommands(CLI::App& app, Invocation& invocation) {
  auto* group = app.add_subcommand("device", "devices: ownership and decommissioning");
  group->require_subcommand(1);

  auto claim = std::make_shared<ClaimOptions>();
  auto* claim_command = group->add_subcommand(
      "claim", "claim registered devices for a deployment (the manufacturer signs vouchers)");
  claim_command->add_option("--deployment", claim->deployment, "the owning deployment, e.g. icu")
      ->required();
  AddSerialOptions(claim_command, claim->serials, claim->serials_file);
  claim_command
      ->add_option("--validity-days", claim->validity_days, "voucher validity (default 365)")
      ->check(CLI::Range(1, 3650));
  claim_command->add_option("--batch", claim->batch, "devices a call (at most 5000)")
      ->check(CLI::Range(size_t{1}, kMaxDevicesPerCall));
  claim_command->add_flag("--dry-run", claim->dry_run,
                          "show each device's state and owner and what the claim would do; "
                          "change nothing");
  OnRun(claim_command, invocation,
        [&invocation, claim] { return RunClaim(invocation.globals, *claim); });

  auto show_serial = std::make_shared<std::string>();
  auto* show_command = group->add_subcommand("show", "a device's state, owner and certificates");
  show_command->add_option("--serial", *show_serial, "device serial")->required();
  OnRun(show_command, invocation,
        [&invocation, show_serial] { return RunShow(invocation.globals, *show_serial); });

  auto decommission = std::make_shared<DecommissionOptions>();
  auto* decommission_command = group->add_subcommand(
      "decommission", "retire devices for good: they never enroll again, certificates revoked");
  AddSerialOptions(decommission_command, decommission->serials, decommission->serials_file);
  decommission_command->add_option("--reason", decommission->reason,
                                   "why, for the audit log (at most 256 characters)");
  decommission_command->add_flag("--dry-run", decommission->dry_run,
                                 "show what would be decommissioned and revoked; change nothing");
  OnRun(decommission_command, invocation,
        [&invocation, decommission] { return RunDecommission(invocation.globals, *decommission); });
}

}  // namespace keyline::cli
