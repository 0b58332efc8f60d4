#include "cli/device_claim.h"

#include <iostream>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "ca/device_identity.h"
#include "cli/batching.h"
#include "cli/device_lookup.h"
#include "cli/serial_list.h"
#include "common/status_macros.h"
#include "keyline/v1/admin.grpc.pb.h"

namespace keyline::cli {
namespace {

using keyline::v1::AdminService;
using keyline::v1::Device;

constexpr absl::Duration kBatchTimeout = absl::Minutes(5);
constexpr absl::Duration kTimeout = absl::Seconds(60);

// What claiming a device would do, judged from GetDevice as the server judges it.
struct ClaimPlan {
  std::string serial;
  std::optional<Device> device;
  std::string action;  // "claim", "renew voucher" or "refuse"
  std::string reason;  // why it is refused
};

ClaimPlan PlanClaim(const std::string& serial, const absl::StatusOr<Device>& device,
                    const std::string& deployment, const std::map<std::string, bool>& hosted) {
  ClaimPlan plan{serial, std::nullopt, "refuse", ""};
  if (!device.ok()) {
    plan.reason = absl::IsNotFound(device.status()) ? "unknown device"
                                                    : std::string(device.status().message());
    return plan;
  }
  plan.device = *device;
  const auto manufacturer = hosted.find(device->manufacturer());
  if (device->state() == "decommissioned") {
    plan.reason = "decommissioned";
  } else if (manufacturer == hosted.end() || !manufacturer->second) {
    plan.reason = absl::StrCat("made by ", device->manufacturer(),
                               ", which Keyline does not host: import its voucher instead");
  } else if (device->state() == "registered") {
    plan.action = "claim";
  } else if (device->deployment() == deployment) {
    plan.action = "renew voucher";
  } else {
    plan.reason = absl::StrCat("claimed by ", OwnerText(*device));
  }
  return plan;
}

// The request for serials[batch], as ClaimDevices and ValidateClaim take it.
keyline::v1::ClaimDevicesRequest ClaimRequest(const ClaimOptions& options,
                                              const std::vector<std::string>& serials,
                                              const BatchRange& batch) {
  keyline::v1::ClaimDevicesRequest request;
  request.set_deployment(options.deployment);
  request.set_voucher_validity_days(options.validity_days);
  for (size_t i = batch.begin; i < batch.end; ++i) request.add_device_serials(serials[i]);
  return request;
}

// What the server says of each batch (ValidateClaim): it checks what keylinectl cannot see from
// GetDevice (the deployment, the voucher validity), with ClaimDevices' own messages.
struct ServerVerdict {
  bool checked = false;               // false: a server that answered predates ValidateClaim
  size_t checked_batches = 0;         // batches checked (before one that could not be)
  std::vector<std::string> refusals;  // "batch K of N (devices A to B): <message>"
};

absl::StatusOr<ServerVerdict> AskTheServer(AdminService::Stub& stub, const ClaimOptions& options,
                                           const std::vector<std::string>& serials,
                                           const std::vector<BatchRange>& ranges) {
  ServerVerdict verdict;
  for (size_t b = 0; b < ranges.size(); ++b) {
    const keyline::v1::ClaimDevicesRequest request = ClaimRequest(options, serials, ranges[b]);
    keyline::v1::ClaimDevicesResponse response;
    auto context = ContextWithDeadline(kBatchTimeout);
    const grpc::Status status = stub.ValidateClaim(context.get(), request, &response);
    // Behind a load balancer, older and newer replicas may answer batches of one run.
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) return verdict;
    ++verdict.checked_batches;
    switch (status.error_code()) {
      case grpc::StatusCode::OK:
        break;
      case grpc::StatusCode::INVALID_ARGUMENT:
      case grpc::StatusCode::NOT_FOUND:
      case grpc::StatusCode::FAILED_PRECONDITION:
        verdict.refusals.push_back(absl::StrCat("batch ", b + 1, " of ", ranges.size(),
                                                " (devices ", ranges[b].begin + 1, " to ",
                                                ranges[b].end, "): ", status.error_message()));
        break;
      default:  // not a verdict: the check itself failed
        return absl::Status(FromGrpc(status).code(),
                            absl::StrCat("ValidateClaim: ", status.error_message()));
    }
  }
  verdict.checked = true;
  return verdict;
}

int RunClaimDryRun(AdminService::Stub& stub, const GlobalOptions& globals,
                   const ClaimOptions& options, const std::vector<std::string>& serials) {
  const OutputFormat format = globals.format();
  keyline::v1::ListManufacturersResponse manufacturers;
  auto context = ContextWithDeadline(kTimeout);
  if (auto status = stub.ListManufacturers(context.get(), {}, &manufacturers); !status.ok()) {
    return ReportError(status, format);
  }
  std::map<std::string, bool> hosted;
  for (const auto& manufacturer : manufacturers.manufacturers()) {
    hosted[manufacturer.name()] = manufacturer.hosted();
  }

  Progress progress =
      Progress::OnStderr("looking up devices", static_cast<int64_t>(serials.size()));
  const auto devices = LookUpDevices(stub, serials, progress);
  progress.Finish();

  std::vector<ClaimPlan> plans;
  std::map<std::string, int> counts;
  for (size_t i = 0; i < serials.size(); ++i) {
    const auto& device = devices[i];
    if (!device.ok() && !absl::IsNotFound(device.status())) {
      return ReportError(
          absl::Status(device.status().code(),
                       absl::StrCat("GetDevice ", serials[i], ": ", device.status().message())),
          format);
    }
    plans.push_back(PlanClaim(serials[i], device, options.deployment, hosted));
    ++counts[plans.back().action];
  }
  const std::vector<BatchRange> ranges = SplitIntoBatches(serials.size(), options.batch);
  const size_t batches = ranges.size();
  absl::StatusOr<ServerVerdict> verdict = AskTheServer(stub, options, serials, ranges);
  if (!verdict.ok()) return ReportError(verdict.status(), format);

  if (format == OutputFormat::kJson) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& plan : plans) {
      nlohmann::json entry =
          plan.device ? DeviceJson(*plan.device) : nlohmann::json{{"serial", plan.serial}};
      entry["action"] = plan.action;
      if (!plan.reason.empty()) entry["reason"] = plan.reason;
      list.push_back(entry);
    }
    std::cout << nlohmann::json{{"dry_run", true},
                                {"deployment", options.deployment},
                                {"devices", list},
                                {"would_claim", counts["claim"]},
                                {"would_renew_voucher", counts["renew voucher"]},
                                {"refused", counts["refuse"]},
                                {"batches", batches},
                                {"server_checked", verdict->checked},
                                {"server_checked_batches", verdict->checked_batches},
                                {"server_refusals", verdict->refusals}}
                     .dump(2)
              << "\n";
  } else {
    std::vector<std::vector<std::string>> rows = {
        {"SERIAL", "STATE", "OWNER", "MANUFACTURER", "WOULD"}};
    for (const auto& plan : plans) {
      rows.push_back({plan.serial, plan.device ? plan.device->state() : "-",
                      plan.device ? OwnerText(*plan.device) : "-",
                      plan.device ? plan.device->manufacturer() : "-",
                      plan.reason.empty() ? plan.action : plan.action + ": " + plan.reason});
    }
    PrintTable(std::cout, rows);
    std::cout << "dry run for deployment " << options.deployment << ": " << counts["claim"]
              << " would be claimed, " << counts["renew voucher"]
              << " already claimed by it (voucher renewed), " << counts["refuse"] << " refused, in "
              << batches << (batches == 1 ? " batch" : " batches") << "; nothing changed\n";
    if (!verdict->checked) {
      std::cout << "the server cannot check a claim without making it (it predates "
                   "ValidateClaim; "
                << verdict->checked_batches << " of " << batches
                << " batches checked): the rest of this plan is keylinectl's reading of each "
                   "device\n";
    }
    for (const std::string& refusal : verdict->refusals) {
      std::cout << "the server would refuse " << refusal << "\n";
    }
  }
  if (counts["refuse"] > 0) {
    return ReportError(absl::FailedPreconditionError(absl::StrCat(
                           counts["refuse"], " of ", serials.size(),
                           " devices would be refused, and each refusal fails its whole batch")),
                       format);
  }
  if (!verdict->refusals.empty()) {
    return ReportError(
        absl::FailedPreconditionError(absl::StrCat(
            "the server would refuse ", verdict->refusals.size(), " of ", batches,
            batches == 1 ? " batch: " : " batches, the first: ", verdict->refusals.front())),
        format);
  }
  return 0;
}

}  // namespace

int RunClaim(const GlobalOptions& globals, const ClaimOptions& options) {
  const OutputFormat format = globals.format();
  if (auto status = ca::ValidateDeploymentName(options.deployment, "--deployment"); !status.ok()) {
    return ReportError(status, format);
  }
  auto serials = CollectSerials(options.serials, options.serials_file);
  if (!serials.ok()) return ReportError(serials.status(), format);
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  auto stub = AdminService::NewStub(*channel);
  if (options.dry_run) return RunClaimDryRun(*stub, globals, options, *serials);

  int claimed = 0;
  int unchanged = 0;
  size_t batches_done = 0;
  Progress progress = Progress::OnStderr("claiming", static_cast<int64_t>(serials->size()));
  const absl::Status status = ForEachBatch(
      serials->size(), options.batch,
      [&](const BatchRange& batch) {
        const keyline::v1::ClaimDevicesRequest request = ClaimRequest(options, *serials, batch);
        keyline::v1::ClaimDevicesResponse response;
        auto context = ContextWithDeadline(kBatchTimeout);
        KEYLINE_RETURN_IF_ERROR(FromGrpc(stub->ClaimDevices(context.get(), request, &response)));
        claimed += response.claimed();
        unchanged += response.unchanged();
        ++batches_done;
        return absl::OkStatus();
      },
      &progress);
  progress.Finish();
  const size_t batches = SplitIntoBatches(serials->size(), options.batch).size();
  if (!status.ok()) {
    if (batches_done == 0) return ReportError(status, format);
    return ReportError(
        absl::Status(status.code(),
                     absl::StrCat(status.message(), " (", batches_done,
                                  batches_done == 1 ? " batch" : " batches",
                                  " before it went through: ", claimed, " claimed, ", unchanged,
                                  " already claimed; running the same claim again is "
                                  "safe)")),
        format);
  }
  if (format == OutputFormat::kJson) {
    std::cout << nlohmann::json{{"deployment", options.deployment},
                                {"devices", serials->size()},
                                {"claimed", claimed},
                                {"unchanged", unchanged},
                                {"batches", batches}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "claimed " << serials->size() << " devices for " << options.deployment << ": "
              << claimed << " newly claimed, " << unchanged
              << " already claimed by it (voucher renewed), in " << batches
              << (batches == 1 ? " batch\n" : " batches\n");
  }
  return 0;
}

}  // namespace keyline::cli
