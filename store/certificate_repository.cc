#include "store/certificate_repository.h"

#include <pqxx/binarystring>
#include <pqxx/result>
#include <string>

#include "absl/strings/str_cat.h"
#include "store/issuance_batch.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {

absl::StatusOr<CertificateRecord> CertificateRepository::FindBySerial(std::string_view serial) {
  return pool_.WithTransaction(
      "find certificate by serial", [&](pqxx::work& tx) -> absl::StatusOr<CertificateRecord> {
        const pqxx::result rows = tx.exec_params(
            absl::StrCat("SELECT serial, issuer_id, profile, subject, ",
                         EpochMicrosSql("not_before"), ", ", EpochMicrosSql("not_after"),
                         ", der, status, ", EpochMicrosSql("revoked_at"),
                         ", revocation_reason FROM certificates WHERE serial = $1::bytea"),
            pqxx::binarystring(serial.data(), serial.size()));
        if (rows.empty()) return absl::NotFoundError("no certificate with this serial");
        const pqxx::row& row = rows[0];
        CertificateRecord certificate;
        certificate.serial = pqxx::binarystring(row[0]).str();
        certificate.issuer_id = row[1].as<int32_t>();
        certificate.profile = row[2].as<std::string>();
        certificate.subject = row[3].as<std::string>();
        certificate.not_before = FromEpochMicros(row[4].as<int64_t>());
        certificate.not_after = FromEpochMicros(row[5].as<int64_t>());
        certificate.der = pqxx::binarystring(row[6]).str();
        certificate.status = row[7].as<std::string>();
        if (!row[8].is_null()) certificate.revoked_at = FromEpochMicros(row[8].as<int64_t>());
        certificate.revocation_reason = NullableField<int16_t>(row[9]);
        return certificate;
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
  return pool_.RunTransaction("insert certificate", [&](pqxx::work& tx) -> absl::Status {
    const IssuanceWrite* writes[] = {&write};
    absl::StatusOr<std::vector<absl::Status>> statuses = StoreIssuances(tx, writes);
    if (!statuses.ok()) return statuses.status();
    // AlreadyExists rolls back: nothing was written, so nothing is lost.
    return (*statuses)[0];
  });
}

}  // namespace keyline::store
