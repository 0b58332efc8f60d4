// Internal to store/: reading devices rows joined to their manufacturer, for DeviceRepository and
// for look-ups that start elsewhere (EnrollmentRepository::FindChallengeWithDevice).
#pragma once

#include <pqxx/row>
#include <string>
#include <string_view>

#include "store/records.h"

namespace keyline::store {

// The columns DeviceFromRow reads, from `devices d` joined to `manufacturers m` (the join is
// kDevicesWithManufacturers).
std::string DeviceColumns();
inline constexpr int kDeviceColumnCount = 11;
inline constexpr std::string_view kDevicesWithManufacturers =
    " FROM devices d JOIN manufacturers m ON m.id = d.manufacturer_id";

// A DeviceRecord from DeviceColumns, starting at column `first`.
DeviceRecord DeviceFromRow(const pqxx::row& row, int first = 0);

}  // namespace keyline::store
