#include "store/device_rows.h"

#include <pqxx/binarystring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {

// The chain's elements come as hex, in order, joined by ','; split again in DeviceFromRow.
std::string DeviceColumns() {
  return absl::StrCat(
      "d.serial, d.manufacturer_id, m.name, d.hardware_model, d.attestation_certificate, "
      "array_to_string(ARRAY(SELECT encode(c, 'hex') FROM unnest(d.attestation_chain) "
      "WITH ORDINALITY AS t(c, n) ORDER BY n), ','), "
      "d.attestation_key_sha256, d.state, d.deployment, d.registered_by, ",
      EpochMicrosSql("d.registered_at"));
}

DeviceRecord DeviceFromRow(const pqxx::row& row, int first) {
  DeviceRecord device;
  device.serial = row[first].as<std::string>();
  device.manufacturer_id = row[first + 1].as<int32_t>();
  device.manufacturer_name = row[first + 2].as<std::string>();
  device.hardware_model = row[first + 3].as<std::string>();
  device.attestation_certificate_der = pqxx::binarystring(row[first + 4]).str();
  const std::string chain = row[first + 5].as<std::string>();
  if (!chain.empty()) {
    for (absl::string_view hex : absl::StrSplit(chain, ',')) {
      // The database encoded it: it is hex.
      device.attestation_chain_der.push_back(HexDecode(AsStd(hex)).value_or(""));
    }
  }
  device.attestation_key_sha256 = pqxx::binarystring(row[first + 6]).str();
  device.state = row[first + 7].as<std::string>();
  device.deployment = NullableField<std::string>(row[first + 8]);
  device.registered_by = row[first + 9].as<std::string>();
  device.registered_at = FromEpochMicros(row[first + 10].as<int64_t>());
  return device;
}

std::string DeviceWithManufacturerColumns() {
  return absl::StrCat(DeviceColumns(), ", ", ManufacturerColumns("m."));
}

DeviceWithManufacturer DeviceWithManufacturerFromRow(const pqxx::row& row, int first) {
  return DeviceWithManufacturer{DeviceFromRow(row, first),
                                ManufacturerFromRow(row, first + kDeviceColumnCount)};
}

}  // namespace keyline::store
