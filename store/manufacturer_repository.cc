#include "store/manufacturer_repository.h"

#include <pqxx/binarystring>
#include <pqxx/result>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "store/audit_appender.h"
#include "store/field_checks.h"
#include "store/manufacturer_rows.h"
#include "store/prepared_statement.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

std::string SelectManufacturers() {
  return absl::StrCat("SELECT ", ManufacturerColumns(""), " FROM manufacturers");
}

absl::Status ValidateManufacturer(const ManufacturerRecord& manufacturer,
                                  const std::string& actor) {
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(manufacturer.name, "manufacturer.name"));
  KEYLINE_RETURN_IF_ERROR(
      CheckNonEmptyBytes(manufacturer.trust_anchor_der, "manufacturer.trust_anchor"));
  KEYLINE_RETURN_IF_ERROR(
      CheckNonEmptyBytes(manufacturer.anchor_key_id, "manufacturer.anchor_key_id"));
  if (manufacturer.status != "trusted") {
    return absl::InvalidArgumentError("manufacturer.status: a new manufacturer is \"trusted\"");
  }
  return CheckNonEmptyText(actor, "actor");
}

}  // namespace

absl::StatusOr<int32_t> ManufacturerRepository::Add(const ManufacturerRecord& manufacturer,
                                                    const std::string& actor) {
  KEYLINE_RETURN_IF_ERROR(ValidateManufacturer(manufacturer, actor));
  const std::optional<std::string> ca_id =
      manufacturer.ca_id ? std::optional(absl::StrCat(*manufacturer.ca_id)) : std::nullopt;
  const AuditEvent event{actor,
                         "manufacturer.added",
                         manufacturer.name,
                         {{"hosted", manufacturer.ca_id.has_value()},
                          {"anchor_key_id", HexEncode(manufacturer.anchor_key_id)}}};
  return pool_.WithTransaction(
      "add manufacturer", [&](pqxx::work& tx) -> absl::StatusOr<int32_t> {
        if (manufacturer.ca_id) {
          // Only a manufacturer CA may be a manufacturer's hosted CA: attestation stays apart
          // from runtime authentication (DESIGN.md, "Trust model").
          const pqxx::result ca = tx.exec_params(
              "SELECT kind FROM certificate_authorities WHERE id = $1::integer", *ca_id);
          if (ca.empty()) {
            return absl::FailedPreconditionError(absl::StrCat(
                "manufacturer.ca_id: no certificate authority with id ", *manufacturer.ca_id));
          }
          if (const std::string kind = ca[0][0].as<std::string>(); kind != "manufacturer") {
            return absl::FailedPreconditionError(
                absl::StrCat("manufacturer.ca_id: certificate authority ", *manufacturer.ca_id,
                             " is a ", kind, " CA, not a manufacturer CA"));
          }
        }
        const pqxx::result inserted = tx.exec_params(
            "INSERT INTO manufacturers (name, ca_id, trust_anchor, anchor_key_id, added_by) "
            "VALUES ($1, $2::integer, $3::bytea, $4::bytea, $5) "
            "ON CONFLICT (name) DO NOTHING RETURNING id",
            manufacturer.name, ca_id ? ca_id->c_str() : nullptr,
            ByteaParam(manufacturer.trust_anchor_der), ByteaParam(manufacturer.anchor_key_id),
            actor);
        if (inserted.empty()) {
          return absl::AlreadyExistsError(
              absl::StrCat("manufacturer.name: \"", manufacturer.name, "\" already exists"));
        }
        const AuditEvent* events[] = {&event};
        KEYLINE_RETURN_IF_ERROR(AppendAuditEvents(tx, events).status());
        return inserted[0][0].as<int32_t>();
      });
}

absl::StatusOr<ManufacturerRecord> ManufacturerRepository::FindByName(std::string_view name) {
  return pool_.WithStatement(
      "find manufacturer by name",
      [&](pqxx::nontransaction& tx) -> absl::StatusOr<ManufacturerRecord> {
        const pqxx::result rows = ExecPrepared(
            tx, "manufacturer.find_by_name", SelectManufacturers() + " WHERE name = $1",
            std::string(name));
        if (rows.empty()) {
          return absl::NotFoundError(absl::StrCat("no manufacturer named \"", AsAbsl(name), "\""));
        }
        return ManufacturerFromRow(rows[0]);
      });
}

absl::StatusOr<ManufacturerRecord> ManufacturerRepository::FindById(int32_t id) {
  return pool_.WithStatement(
      "find manufacturer by id",
      [&](pqxx::nontransaction& tx) -> absl::StatusOr<ManufacturerRecord> {
        const pqxx::result rows = ExecPrepared(tx, "manufacturer.find_by_id",
                                               SelectManufacturers() + " WHERE id = $1", id);
        if (rows.empty()) return absl::NotFoundError(absl::StrCat("no manufacturer with id ", id));
        return ManufacturerFromRow(rows[0]);
      });
}

absl::StatusOr<std::vector<ManufacturerRecord>> ManufacturerRepository::List() {
  return pool_.WithTransaction(
      "list manufacturers", [&](pqxx::work& tx) -> absl::StatusOr<std::vector<ManufacturerRecord>> {
        std::vector<ManufacturerRecord> manufacturers;
        for (const pqxx::row& row : tx.exec(SelectManufacturers() + " ORDER BY id")) {
          manufacturers.push_back(ManufacturerFromRow(row));
        }
        return manufacturers;
      });
}

absl::StatusOr<ManufacturerRecord> ManufacturerRepository::Revoke(std::string_view name,
                                                                  const std::string& actor,
                                                                  const std::string& reason) {
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(actor, "actor"));
  KEYLINE_RETURN_IF_ERROR(CheckText(reason, "reason"));
  return pool_.WithTransaction(
      "revoke manufacturer", [&](pqxx::work& tx) -> absl::StatusOr<ManufacturerRecord> {
        // The row lock makes two concurrent revocations one change and one no-op.
        const pqxx::result rows = tx.exec_params(
            SelectManufacturers() + " WHERE name = $1 FOR UPDATE", std::string(name));
        if (rows.empty()) {
          return absl::NotFoundError(absl::StrCat("no manufacturer named \"", AsAbsl(name), "\""));
        }
        ManufacturerRecord manufacturer = ManufacturerFromRow(rows[0]);
        if (manufacturer.status == "revoked") return manufacturer;
        const pqxx::row revoked = tx.exec_params1(
            absl::StrCat("UPDATE manufacturers SET status = 'revoked', revoked_at = now() "
                         "WHERE id = $1 RETURNING ",
                         EpochMicrosSql("revoked_at")),
            manufacturer.id);
        manufacturer.status = "revoked";
        manufacturer.revoked_at = FromEpochMicros(revoked[0].as<int64_t>());
        const AuditEvent event{actor, "manufacturer.revoked", manufacturer.name,
                               {{"reason", reason}}};
        const AuditEvent* events[] = {&event};
        KEYLINE_RETURN_IF_ERROR(AppendAuditEvents(tx, events).status());
        return manufacturer;
      });
}

}  // namespace keyline::store
