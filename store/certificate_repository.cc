#include "store/certificate_repository.h"

#include <memory>
#include <pqxx/binarystring>
#include <pqxx/connection>
#include <pqxx/result>
#include <pqxx/transaction>
#include <string>

#include "absl/strings/str_cat.h"
#include "store/certificate_rows.h"
#include "store/connection_pool.h"
#include "store/issuance_batch.h"
#include "store/prepared_statement.h"
#include "store/store_errors.h"

namespace keyline::store {

absl::StatusOr<CertificateRecord> CertificateRepository::FindBySerial(std::string_view serial) {
  return pool_.WithStatement(
      "find certificate by serial",
      [&](pqxx::nontransaction& tx) -> absl::StatusOr<CertificateRecord> {
        const pqxx::result rows = ExecPrepared(
            tx, "certificate.find_by_serial",
            absl::StrCat("SELECT ", CertificateSelectList("c"),
                         " FROM certificates c WHERE serial = $1::bytea"),
            pqxx::binarystring(serial.data(), serial.size()));
        if (rows.empty()) return absl::NotFoundError("no certificate with this serial");
        return CertificateFromRow(rows[0]);
      });
}

absl::StatusOr<CertificateRecord> CertificateRepository::FindLatestByProfile(
    std::string_view profile, std::optional<int32_t> issuer_id) {
  return pool_.WithStatement(
      "find latest certificate by profile",
      [&](pqxx::nontransaction& tx) -> absl::StatusOr<CertificateRecord> {
        // The issuer test is written so that one statement serves both cases.
        const pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT ", CertificateSelectList("c"),
                         " FROM certificates c WHERE profile = $1 AND status = 'good' "
                         "AND ($2::integer = 0 OR issuer_id = $2::integer) "
                         "ORDER BY not_after DESC LIMIT 1"),
            std::string(profile), issuer_id.value_or(0));
        if (rows.empty()) return absl::NotFoundError("no certificate of this profile");
        return CertificateFromRow(rows[0]);
      });
}

absl::StatusOr<int64_t> CertificateRepository::Count(std::optional<int32_t> issuer_id) {
  return pool_.WithTransaction(
      "count certificates", [&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
        if (issuer_id) {
          return tx
              .exec_params1("SELECT count(*) FROM certificates WHERE issuer_id = $1::integer",
                            *issuer_id)[0]
              .as<int64_t>();
        }
        return tx.exec1("SELECT count(*) FROM certificates")[0].as<int64_t>();
      });
}

absl::Status CertificateRepository::InsertWithAudit(const IssuanceWrite& write) {
  if (absl::Status status = ValidateIssuanceWrite(write); !status.ok()) return status;
  // On a connection of its own, set up as the issuance writer's: StoreIssuances' prepared
  // statements need its planner settings, which the pool's connections must not carry.
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection =
      OpenKeyLookupConnection(pool_.database_url());
  if (!connection.ok()) return connection.status();
  try {
    pqxx::work tx(**connection);
    const IssuanceWrite* writes[] = {&write};
    absl::StatusOr<std::vector<absl::Status>> statuses = StoreIssuances(tx, writes);
    if (!statuses.ok()) return statuses.status();
    // AlreadyExists rolls back: nothing was written, so nothing is lost.
    if (!(*statuses)[0].ok()) return (*statuses)[0];
    tx.commit();
    return absl::OkStatus();
  } catch (...) {
    return MapCurrentException("insert certificate");
  }
}

}  // namespace keyline::store
