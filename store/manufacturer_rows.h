// Internal to store/: reading manufacturers rows, for ManufacturerRepository and for look-ups that
// join a device to its manufacturer (store/device_rows.h).
#pragma once

#include <pqxx/row>
#include <string>
#include <string_view>

#include "store/records.h"

namespace keyline::store {

// The columns ManufacturerFromRow reads, each prefixed with `table` ("" or e.g. "m.").
std::string ManufacturerColumns(std::string_view table);
inline constexpr int kManufacturerColumnCount = 9;

// A ManufacturerRecord from ManufacturerColumns, starting at column `first`.
ManufacturerRecord ManufacturerFromRow(const pqxx::row& row, int first = 0);

}  // namespace keyline::store
