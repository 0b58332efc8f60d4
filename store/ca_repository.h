// Certificate authorities (table certificate_authorities): insert with an audit event, look up.
//
// Thread safety: as the pool; a repository holds no state of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/connection_pool.h"
#include "store/records.h"

namespace keyline::store {

class CaRepository {
 public:
  // `pool` must outlive the repository.
  explicit CaRepository(ConnectionPool& pool) : pool_(pool) {}

  // Stores `ca` (its id is ignored) and appends `event` in one transaction; returns the new id.
  // AlreadyExists if a CA with this name exists; FailedPrecondition if the row breaks a rule of
  // the schema (unknown kind or status, deployment set for a non-deployment CA, unknown
  // parent_id); InvalidArgument for non-finite times or an event that cannot be chained.
  [[nodiscard]] absl::StatusOr<int32_t> Insert(const CaRecord& ca, const AuditEvent& event);

  // Deployment CA rotation, one transaction: the CA `retired_id` (the active CA of
  // replacement.deployment) becomes 'retired', `replacement` is stored active, `event` appended.
  // FailedPrecondition when `retired_id` is not that deployment's active CA (a concurrent
  // rotation won); InvalidArgument when `replacement` is not a deployment CA.
  [[nodiscard]] absl::StatusOr<int32_t> Rotate(const CaRecord& replacement, int32_t retired_id,
                                               const AuditEvent& event);

  // NotFound if there is no such CA.
  [[nodiscard]] absl::StatusOr<CaRecord> FindByName(std::string_view name);
  [[nodiscard]] absl::StatusOr<CaRecord> FindById(int32_t id);

  // Every CA, by id.
  [[nodiscard]] absl::StatusOr<std::vector<CaRecord>> List();

 private:
  absl::StatusOr<int32_t> Store(const CaRecord& ca, std::optional<int32_t> retired_id,
                                const AuditEvent& event);

  ConnectionPool& pool_;
};

}  // namespace keyline::store
