// Issued certificates (table certificates): look-ups, counts, and one-off inserts with their audit
// event. Bulk issuance goes through IssuanceWriter instead; InsertWithAudit is for the few
// certificates made outside it (keyline-server init: the server TLS certificate and the bootstrap
// admin certificate) and stores exactly what the writer would.
//
// Thread safety: as the pool; a repository holds no state of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/connection_pool.h"
#include "store/issuance_writer.h"
#include "store/records.h"

namespace keyline::store {

class CertificateRepository {
 public:
  // `pool` must outlive the repository.
  explicit CertificateRepository(ConnectionPool& pool) : pool_(pool) {}

  // `serial` is the raw big-endian magnitude, as stored. NotFound if there is none.
  [[nodiscard]] absl::StatusOr<CertificateRecord> FindBySerial(std::string_view serial);

  // Certificates stored in total, or issued by `issuer_id`.
  [[nodiscard]] absl::StatusOr<int64_t> Count(std::optional<int32_t> issuer_id = std::nullopt);

  // The good certificate of this profile (and issuer, when given) that expires last (e.g. the
  // audit signer's, a CA's OCSP signer's); NotFound when there is none.
  [[nodiscard]] absl::StatusOr<CertificateRecord> FindLatestByProfile(
      std::string_view profile, std::optional<int32_t> issuer_id = std::nullopt);

  // Stores the certificate, its operator (if new) and its audit event in one transaction.
  // AlreadyExists if the serial is stored (nothing written); InvalidArgument as the writer's
  // validation; FailedPrecondition if the row breaks a rule of the schema (unknown issuer_id).
  [[nodiscard]] absl::Status InsertWithAudit(const IssuanceWrite& write);

 private:
  ConnectionPool& pool_;
};

}  // namespace keyline::store
