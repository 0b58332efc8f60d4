#include "store/ca_repository.h"

#include <optional>
#include <pqxx/binarystring>
#include <pqxx/result>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "store/audit_appender.h"
#include "store/audit_chain.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

std::string SelectCas() {
  return absl::StrCat(
      "SELECT id, name, kind, deployment, parent_id, key_label, key_algorithm, certificate, "
      "subject_key_id, status, ",
      EpochMicrosSql("not_before"), ", ", EpochMicrosSql("not_after"),
      " FROM certificate_authorities");
}

CaRecord CaFromRow(const pqxx::row& row) {
  CaRecord ca;
  ca.id = row[0].as<int32_t>();
  ca.name = row[1].as<std::string>();
  ca.kind = row[2].as<std::string>();
  ca.deployment = NullableField<std::string>(row[3]);
  ca.parent_id = NullableField<int32_t>(row[4]);
  ca.key_label = row[5].as<std::string>();
  ca.key_algorithm = row[6].as<std::string>();
  ca.certificate_der = pqxx::binarystring(row[7]).str();
  ca.subject_key_id = pqxx::binarystring(row[8]).str();
  ca.status = row[9].as<std::string>();
  ca.not_before = FromEpochMicros(row[10].as<int64_t>());
  ca.not_after = FromEpochMicros(row[11].as<int64_t>());
  return ca;
}

absl::StatusOr<CaRecord> FindOne(ConnectionPool& pool, std::string_view context,
                                 const std::string& where, const std::string& value,
                                 std::string_view what) {
  return pool.WithTransaction(context, [&](pqxx::work& tx) -> absl::StatusOr<CaRecord> {
    const pqxx::result rows = tx.exec_params(absl::StrCat(SelectCas(), " WHERE ", where), value);
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("no certificate authority ", AsAbsl(what)));
    }
    return CaFromRow(rows[0]);
  });
}

}  // namespace

absl::StatusOr<int32_t> CaRepository::Insert(const CaRecord& ca, const AuditEvent& event) {
  return Store(ca, std::nullopt, event);
}

absl::StatusOr<int32_t> CaRepository::Rotate(const CaRecord& replacement, int32_t retired_id,
                                             const AuditEvent& event) {
  if (replacement.kind != "deployment" || !replacement.deployment) {
    return absl::InvalidArgumentError("ca: only deployment CAs rotate");
  }
  return Store(replacement, retired_id, event);
}

absl::StatusOr<int32_t> CaRepository::Store(const CaRecord& ca, std::optional<int32_t> retired_id,
                                            const AuditEvent& event) {
  absl::StatusOr<std::string> not_before = TimestamptzParam(ca.not_before, "ca.not_before");
  if (!not_before.ok()) return not_before.status();
  absl::StatusOr<std::string> not_after = TimestamptzParam(ca.not_after, "ca.not_after");
  if (!not_after.ok()) return not_after.status();
  if (absl::Status status = ValidateAuditEvent(event); !status.ok()) return status;

  // Nullable parameters travel as null pointers (see SqlParams).
  const std::optional<std::string> parent_id =
      ca.parent_id ? std::optional(absl::StrCat(*ca.parent_id)) : std::nullopt;
  absl::StatusOr<int32_t> id = pool_.WithTransaction(
      "insert certificate authority", [&](pqxx::work& tx) -> absl::StatusOr<int32_t> {
        if (retired_id) {
          // Only the deployment's active CA retires; a concurrent rotation already did it.
          const pqxx::result retired = tx.exec_params(
              "UPDATE certificate_authorities SET status = 'retired' "
              "WHERE id = $1::integer AND status = 'active' AND deployment = $2",
              absl::StrCat(*retired_id), *ca.deployment);
          if (retired.affected_rows() != 1) {
            return absl::FailedPreconditionError(absl::StrCat(
                "certificate authority #", *retired_id, " is not the active CA of deployment \"",
                *ca.deployment, "\" any more (rotated concurrently?)"));
          }
        }
        const pqxx::row row = tx.exec_params1(
            "INSERT INTO certificate_authorities (name, kind, deployment, parent_id, key_label, "
            "key_algorithm, certificate, subject_key_id, status, not_before, not_after) "
            "VALUES ($1, $2, $3, $4::integer, $5, $6, $7::bytea, $8::bytea, $9, $10::timestamptz, "
            "$11::timestamptz) RETURNING id",
            ca.name, ca.kind, ca.deployment ? ca.deployment->c_str() : nullptr,
            parent_id ? parent_id->c_str() : nullptr, ca.key_label, ca.key_algorithm,
            pqxx::binarystring(ca.certificate_der), pqxx::binarystring(ca.subject_key_id),
            ca.status, *not_before, *not_after);
        const AuditEvent* events[] = {&event};
        if (absl::StatusOr<int64_t> seq = AppendAuditEvents(tx, events); !seq.ok()) {
          return seq.status();
        }
        return row[0].as<int32_t>();
      });
  if (id.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(
        absl::StrCat("certificate authority \"", ca.name, "\" already exists"));
  }
  return id;
}

absl::StatusOr<CaRecord> CaRepository::FindByName(std::string_view name) {
  return FindOne(pool_, "find certificate authority by name", "name = $1", std::string(name),
                 absl::StrCat("named \"", AsAbsl(name), "\""));
}

absl::StatusOr<CaRecord> CaRepository::FindById(int32_t id) {
  return FindOne(pool_, "find certificate authority by id", "id = $1::integer", absl::StrCat(id),
                 absl::StrCat("with id ", id));
}

absl::StatusOr<std::vector<CaRecord>> CaRepository::List() {
  return pool_.WithTransaction(
      "list certificate authorities", [&](pqxx::work& tx) -> absl::StatusOr<std::vector<CaRecord>> {
        std::vector<CaRecord> cas;
        for (const pqxx::row& row : tx.exec(SelectCas() + " ORDER BY id")) {
          cas.push_back(CaFromRow(row));
        }
        return cas;
      });
}

}  // namespace keyline::store
