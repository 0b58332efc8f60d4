#include "store/revocation_repository.h"

#include <pqxx/binarystring>
#include <pqxx/result>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ca/revocation_reason.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "store/audit_appender.h"
#include "store/certificate_status_feed.h"
#include "store/field_checks.h"
#include "store/prepared_statement.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

constexpr char kCertificateColumns[] = "serial, issuer_id, profile, device_serial, status";

absl::Status Validate(const RevocationRequest& request) {
  if (request.targets.empty()) return absl::InvalidArgumentError("targets: empty");
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(request.actor, "actor"));
  if (!ca::IsRevocationReasonAllowed(request.reason)) {
    return absl::InvalidArgumentError(absl::StrCat("reason: ", request.reason,
                                                   " is not an allowed CRLReason code"));
  }
  if (request.invalidity_date && *request.invalidity_date > absl::Now() + absl::Minutes(5)) {
    return absl::InvalidArgumentError("invalidity_date: in the future");
  }
  for (size_t i = 0; i < request.targets.size(); ++i) {
    const RevocationTarget& target = request.targets[i];
    const bool certificate = target.kind == RevocationTarget::Kind::kCertificate;
    const std::string field =
        IndexedField("targets", i, certificate ? "certificate_serial" : "device_serial");
    if (certificate) {
      KEYLINE_RETURN_IF_ERROR(CheckNonEmptyBytes(target.id, field));
    } else {
      KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(target.id, field));
    }
    if (target.reason && !ca::IsRevocationReasonAllowed(*target.reason)) {
      return absl::InvalidArgumentError(absl::StrCat(IndexedField("targets", i, "reason"), ": ",
                                                     *target.reason,
                                                     " is not an allowed CRLReason code"));
    }
  }
  return absl::OkStatus();
}

// Collects what one target would revoke from the locked rows.
struct Collector {
  RevocationResult& result;
  absl::flat_hash_set<std::string> seen;

  // Returns the indices (into result.revoked) that this call added.
  std::vector<size_t> Take(const pqxx::result& rows, size_t target_index, int reason,
                           bool count_revoked) {
    std::vector<size_t> added;
    for (const pqxx::row& row : rows) {
      std::string serial = pqxx::binarystring(row[0]).str();
      if (!seen.insert(serial).second) continue;
      if (row[4].as<std::string>() == "revoked") {
        if (count_revoked) ++result.already_revoked;
        continue;
      }
      RevokedCertificate revoked;
      revoked.serial = std::move(serial);
      revoked.issuer_id = row[1].as<int32_t>();
      revoked.profile = row[2].as<std::string>();
      revoked.device_serial = NullableField<std::string>(row[3]);
      revoked.reason = reason;
      revoked.target_index = target_index;
      added.push_back(result.revoked.size());
      result.revoked.push_back(std::move(revoked));
    }
    return added;
  }
};

nlohmann::json SerialsInHex(const RevocationResult& result, const std::vector<size_t>& indices) {
  nlohmann::json serials = nlohmann::json::array();
  for (size_t index : indices) serials.push_back(HexEncode(result.revoked[index].serial));
  return serials;
}

}  // namespace

absl::StatusOr<RevocationResult> RevocationRepository::Revoke(const RevocationRequest& request) {
  KEYLINE_RETURN_IF_ERROR(Validate(request));
  std::optional<std::string> invalidity;
  if (request.invalidity_date) {
    KEYLINE_ASSIGN_OR_RETURN(invalidity,
                             TimestamptzParam(*request.invalidity_date, "invalidity_date"));
  }
  return pool_.WithTransaction(
      "revoke certificates", [&](pqxx::work& tx) -> absl::StatusOr<RevocationResult> {
        RevocationResult result;
        result.revoked_at =
            FromEpochMicros(tx.exec1(absl::StrCat("SELECT ", EpochMicrosSql("now()")))[0]
                                .as<int64_t>());
        Collector collector{result, {}};
        std::vector<AuditEvent> events;
        for (size_t i = 0; i < request.targets.size(); ++i) {
          const RevocationTarget& target = request.targets[i];
          const int reason = target.reason.value_or(request.reason);
          nlohmann::json details = {{"reason", ca::RevocationReasonName(reason)}};
          if (invalidity) details["invalidity_date"] = FormatRfc3339Micros(*request.invalidity_date);
          if (target.kind == RevocationTarget::Kind::kCertificate) {
            const pqxx::result rows = ExecPrepared(
                tx, "revocation.lock_certificate",
                absl::StrCat("SELECT ", kCertificateColumns,
                             " FROM certificates WHERE serial = $1::bytea FOR UPDATE"),
                pqxx::binarystring(target.id.data(), target.id.size()));
            if (rows.empty()) {
              return absl::NotFoundError(
                  absl::StrCat(IndexedField("targets", i, "certificate_serial"),
                               ": no certificate ", HexEncode(target.id)));
            }
            const std::vector<size_t> added = collector.Take(rows, i, reason, true);
            if (added.empty()) continue;
            const RevokedCertificate& revoked = result.revoked[added.front()];
            details["issuer_id"] = revoked.issuer_id;
            details["profile"] = revoked.profile;
            if (revoked.device_serial) details["device_serial"] = *revoked.device_serial;
            events.push_back({request.actor, "certificate.revoked", HexEncode(target.id),
                              std::move(details)});
          } else {
            if (ExecPrepared(tx, "revocation.device_exists",
                             "SELECT 1 FROM devices WHERE serial = $1", target.id)
                    .empty()) {
              return absl::NotFoundError(absl::StrCat(
                  IndexedField("targets", i, "device_serial"), ": no device ", AsAbsl(target.id)));
            }
            const pqxx::result rows = ExecPrepared(
                tx, "revocation.lock_device_certificates",
                absl::StrCat("SELECT ", kCertificateColumns,
                             " FROM certificates WHERE device_serial = $1 ORDER BY issued_at "
                             "FOR UPDATE"),
                target.id);
            const std::vector<size_t> added = collector.Take(rows, i, reason, false);
            if (added.empty()) continue;
            details["revoked_certificate_serials"] = SerialsInHex(result, added);
            events.push_back(
                {request.actor, "device.certificates.revoked", target.id, std::move(details)});
          }
        }
        if (request.dry_run || result.revoked.empty()) return result;

        for (const RevokedCertificate& revoked : result.revoked) {
          const pqxx::binarystring serial(revoked.serial.data(), revoked.serial.size());
          if (invalidity) {
            ExecPrepared(tx, "revocation.revoke_with_invalidity",
                         "UPDATE certificates SET status = 'revoked', revoked_at = now(), "
                         "revocation_reason = $2, invalidity_date = $3::timestamptz "
                         "WHERE serial = $1::bytea",
                         serial, revoked.reason, *invalidity);
          } else {
            ExecPrepared(tx, "revocation.revoke",
                         "UPDATE certificates SET status = 'revoked', revoked_at = now(), "
                         "revocation_reason = $2 WHERE serial = $1::bytea",
                         serial, revoked.reason);
          }
        }
        std::vector<const AuditEvent*> pointers;
        pointers.reserve(events.size());
        for (const AuditEvent& event : events) pointers.push_back(&event);
        KEYLINE_RETURN_IF_ERROR(AppendAuditEvents(tx, pointers).status());
        NotifyCertificatesChanged(tx);
        return result;
      });
}

}  // namespace keyline::store
