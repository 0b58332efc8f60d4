// Keyline-hosted manufacturers: each manufacturer CA of the hierarchy is also a row in the
// manufacturers table (its own certificate as the trust anchor), so devices it attests are
// registered, claimed and enrolled exactly like those of external vendors.
#pragma once

#include "absl/status/status.h"
#include "server/ca_hierarchy.h"
#include "store/manufacturer_repository.h"

namespace keyline::server {

// Adds the rows that are missing (init); existing ones are left alone.
[[nodiscard]] absl::Status EnsureHostedManufacturers(const CaSet& cas,
                                                     store::ManufacturerRepository& manufacturers);

}  // namespace keyline::server
