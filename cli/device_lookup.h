// GetDevice for many serials at once (what dry runs show before a bulk change): a bounded
// number of calls in flight on one channel, results in the order of the serials. And how
// keylinectl shows a device.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "cli/progress.h"
#include "keyline/v1/admin.grpc.pb.h"

namespace keyline::cli {

// One result per serial: the device, or the call's status (NotFound for an unknown device).
// Advances `progress` by one per finished call.
std::vector<absl::StatusOr<keyline::v1::Device>> LookUpDevices(
    keyline::v1::AdminService::Stub& stub, const std::vector<std::string>& serials,
    Progress& progress);

// The owning deployment, "-" when unclaimed.
std::string OwnerText(const keyline::v1::Device& device);
nlohmann::json DeviceJson(const keyline::v1::Device& device);

}  // namespace keyline::cli
