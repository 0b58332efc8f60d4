#include "store/audit_log_reader.h"

#include <nlohmann/json.hpp>
#include <pqxx/binarystring>
#include <pqxx/result>

#include "absl/strings/str_cat.h"
#include "store/timestamps.h"

namespace keyline::store {

absl::StatusOr<AuditLogReader::Head> AuditLogReader::ReadHead() {
  return pool_.WithTransaction("read audit head", [&](pqxx::work& tx) -> absl::StatusOr<Head> {
    const pqxx::row row = tx.exec1("SELECT seq, row_hash FROM audit_head");
    return Head{row[0].as<int64_t>(), pqxx::binarystring(row[1]).str()};
  });
}

absl::StatusOr<std::vector<AuditRow>> AuditLogReader::ReadRows(int64_t after_seq, size_t limit) {
  return pool_.WithTransaction(
      "read audit log", [&](pqxx::work& tx) -> absl::StatusOr<std::vector<AuditRow>> {
        std::vector<AuditRow> rows;
        const pqxx::result result = tx.exec_params(
            // A time the appender never writes ('infinity', only by tampering) reads as NULL
            // rather than failing the cast and the whole page without naming the row.
            absl::StrCat("SELECT seq, CASE WHEN isfinite(occurred_at) THEN ",
                         EpochMicrosSql("occurred_at"),
                         " END, actor, action, target, details::text, prev_hash, row_hash "
                         "FROM audit_log WHERE seq > $1::bigint ORDER BY seq LIMIT $2::bigint"),
            after_seq, static_cast<int64_t>(limit));
        rows.reserve(result.size());
        for (const pqxx::row& row : result) {
          AuditRow audit;
          audit.seq = row[0].as<int64_t>();
          if (row[1].is_null()) {
            return absl::DataLossError(absl::StrCat(
                "row ", audit.seq, ": occurred_at is not a finite time (altered?)"));
          }
          audit.occurred_at = FromEpochMicros(row[1].as<int64_t>());
          audit.event.actor = row[2].as<std::string>();
          audit.event.action = row[3].as<std::string>();
          audit.event.target = row[4].as<std::string>();
          audit.event.details = nlohmann::json::parse(row[5].c_str(), nullptr,
                                                      /*allow_exceptions=*/false);
          if (audit.event.details.is_discarded()) {
            return absl::InternalError(
                absl::StrCat("audit row ", audit.seq, ": details are not valid JSON"));
          }
          audit.prev_hash = pqxx::binarystring(row[6]).str();
          audit.row_hash = pqxx::binarystring(row[7]).str();
          rows.push_back(std::move(audit));
        }
        return rows;
      });
}

}  // namespace keyline::store
