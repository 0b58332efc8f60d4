#include "store/manufacturer_rows.h"

#include <pqxx/binarystring>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {

std::string ManufacturerColumns(std::string_view table) {
  const absl::string_view t = AsAbsl(table);
  return absl::StrCat(t, "id, ", t, "name, ", t, "ca_id, ", t, "trust_anchor, ", t,
                      "anchor_key_id, ", t, "status, ", t, "added_by, ",
                      EpochMicrosSql(absl::StrCat(t, "added_at")), ", ",
                      EpochMicrosSql(absl::StrCat(t, "revoked_at")));
}

ManufacturerRecord ManufacturerFromRow(const pqxx::row& row, int first) {
  ManufacturerRecord manufacturer;
  manufacturer.id = row[first].as<int32_t>();
  manufacturer.name = row[first + 1].as<std::string>();
  manufacturer.ca_id = NullableField<int32_t>(row[first + 2]);
  manufacturer.trust_anchor_der = pqxx::binarystring(row[first + 3]).str();
  manufacturer.anchor_key_id = pqxx::binarystring(row[first + 4]).str();
  manufacturer.status = row[first + 5].as<std::string>();
  manufacturer.added_by = row[first + 6].as<std::string>();
  manufacturer.added_at = FromEpochMicros(row[first + 7].as<int64_t>());
  if (!row[first + 8].is_null())
    manufacturer.revoked_at = FromEpochMicros(row[first + 8].as<int64_t>());
  return manufacturer;
}

}  // namespace keyline::store
