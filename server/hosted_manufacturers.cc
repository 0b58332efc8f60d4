#include "server/hosted_manufacturers.h"

#include "ca/certificate_der.h"
#include "common/status_macros.h"

namespace keyline::server {

absl::Status EnsureHostedManufacturers(const CaSet& cas,
                                       store::ManufacturerRepository& manufacturers) {
  for (const auto& [name, manufacturer_ca] : cas.manufacturers) {
    auto existing = manufacturers.FindByName(name);
    if (existing.ok()) continue;
    if (!absl::IsNotFound(existing.status())) return existing.status();
    store::ManufacturerRecord record;
    record.name = name;
    record.ca_id = manufacturer_ca->id();
    record.trust_anchor_der = manufacturer_ca->certificate_der();
    record.anchor_key_id = ca::SubjectKeyIdOf(manufacturer_ca->certificate());
    record.added_by = "system:init";
    KEYLINE_RETURN_IF_ERROR(manufacturers.Add(record, "system:init").status());
  }
  return absl::OkStatus();
}

}  // namespace keyline::server
