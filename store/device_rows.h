// Internal to store/: reading devices rows joined to their manufacturer, for DeviceRepository and
// for the enrollment look-ups (EnrollmentRepository::FindDeviceAndCreateChallenge and
// FindChallengeWithDevice).
#pragma once

#include <pqxx/row>
#include <string>
#include <string_view>

#include "store/manufacturer_rows.h"
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

// DeviceColumns, then the manufacturer's (ManufacturerColumns of `m`), over the same join.
std::string DeviceWithManufacturerColumns();
inline constexpr int kDeviceWithManufacturerColumnCount =
    kDeviceColumnCount + kManufacturerColumnCount;

// The two records from DeviceWithManufacturerColumns, starting at column `first`.
DeviceWithManufacturer DeviceWithManufacturerFromRow(const pqxx::row& row, int first = 0);

}  // namespace keyline::store
