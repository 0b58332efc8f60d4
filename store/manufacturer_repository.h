// Manufacturers: the trust anchors attestation chains must end at. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "store/connection_pool.h"
#include "store/records.h"

namespace keyline::store {

class ManufacturerRepository {
 public:
  explicit ManufacturerRepository(ConnectionPool& pool) : pool_(pool) {}

  // Inserts with an audit event "manufacturer.added" (details: hosted, anchor_key_id hex) in one
  // transaction; returns the id. added_by is `actor` (the record's id, added_by and added_at are
  // ignored; its status must be "trusted"). AlreadyExists "manufacturer.name: ..." when the name
  // is taken; FailedPrecondition "manufacturer.ca_id: ..." when ca_id is not a manufacturer CA;
  // InvalidArgument naming the field for an empty name, anchor or key id.
  [[nodiscard]] absl::StatusOr<int32_t> Add(const ManufacturerRecord& manufacturer,
                                            const std::string& actor);

  [[nodiscard]] absl::StatusOr<ManufacturerRecord> FindByName(std::string_view name);
  [[nodiscard]] absl::StatusOr<ManufacturerRecord> FindById(int32_t id);
  [[nodiscard]] absl::StatusOr<std::vector<ManufacturerRecord>> List();

  // trusted -> revoked with audit "manufacturer.revoked" (details: reason). Already revoked: no
  // change, no event. NotFound when unknown. Returns the record after the change. The hosted CA
  // (ca_id) is left alone: revoking the trust is what stops enrollments.
  [[nodiscard]] absl::StatusOr<ManufacturerRecord> Revoke(std::string_view name,
                                                          const std::string& actor,
                                                          const std::string& reason);

 private:
  ConnectionPool& pool_;
};

}  // namespace keyline::store
