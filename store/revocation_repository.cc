#include "store/revocation_repository.h"

#include <algorithm>
#include <pqxx/binarystring>
#include <pqxx/result>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ca/revocation_reason.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "store/audit_appender.h"
#include "store/certificate_status_feed.h"
#include "store/field_checks.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

// The sixth column orders a device's certificates by issuance.
constexpr char kCertificateColumns[] =
    "serial, issuer_id, profile, device_serial, status, (extract(epoch FROM issued_at) * "
    "1000000)::bigint";

absl::Status Validate(const RevocationRequest& request) {
  if (request.targets.empty()) return absl::InvalidArgumentError("targets: empty");
  KEYLINE_RETURN_IF_ERROR(CheckNonEmptyText(request.actor, "actor"));
  if (!ca::IsRevocationReasonAllowed(request.reason)) {
    return absl::InvalidArgumentError(
        absl::StrCat("reason: ", request.reason, " is not an allowed CRLReason code"));
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
  std::vector<size_t> Take(const std::vector<pqxx::row>& rows, size_t target_index, int reason,
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

std::string_view RevocationStepName(RevocationProgress::Step step) {
  switch (step) {
    case RevocationProgress::Step::kLocking:
      return "locking";
    case RevocationProgress::Step::kChecking:
      return "checking";
    case RevocationProgress::Step::kUpdating:
      return "updating";
    case RevocationProgress::Step::kRecording:
      return "recording";
    case RevocationProgress::Step::kCommitting:
      return "committing";
  }
  return "unknown";
}

absl::StatusOr<RevocationResult> RevocationRepository::Revoke(const RevocationRequest& request) {
  KEYLINE_RETURN_IF_ERROR(Validate(request));
  std::optional<std::string> invalidity;
  if (request.invalidity_date) {
    KEYLINE_ASSIGN_OR_RETURN(invalidity,
                             TimestamptzParam(*request.invalidity_date, "invalidity_date"));
  }
  return pool_.WithTransaction(
      "revoke certificates", [&](pqxx::work& tx) -> absl::StatusOr<RevocationResult> {
        bool cancelled = false;
        const auto report = [&](RevocationProgress::Step step, size_t done, size_t total) {
          if (request.progress && !cancelled) cancelled = !request.progress({step, done, total});
          return !cancelled;
        };
        const absl::Status stopped =
            absl::CancelledError("revocation: the caller cancelled; nothing changed");
        const size_t targets = request.targets.size();
        if (!report(RevocationProgress::Step::kLocking, 0, targets)) return stopped;
        RevocationResult result;
        result.revoked_at = FromEpochMicros(
            tx.exec1(absl::StrCat("SELECT ", EpochMicrosSql("now()")))[0].as<int64_t>());
        // Not prepared statements: a connection's cached generic plan does not know the array's
        // size and, planned while the table was small, seq-scans with a linear `= ANY` filter;
        // 100,000 targets then took minutes (10^10 comparisons). Planned per call, PostgreSQL
        // hashes the array or walks the index.
        // Set-based: one statement locks every named certificate, one every certificate of the
        // named devices (rows locked in one order, so concurrent revocations cannot deadlock),
        // one checks the devices exist; the targets are then walked in order as before.
        std::vector<std::string_view> serials;
        std::vector<std::string_view> devices;
        for (const RevocationTarget& target : request.targets) {
          (target.kind == RevocationTarget::Kind::kCertificate ? serials : devices)
              .push_back(target.id);
        }
        absl::flat_hash_map<std::string, pqxx::row> by_serial;
        absl::flat_hash_map<std::string, std::vector<pqxx::row>> by_device;
        absl::flat_hash_set<std::string> known_devices;
        pqxx::result certificate_rows;
        pqxx::result device_certificate_rows;
        if (!serials.empty()) {
          certificate_rows = tx.exec_params(
              absl::StrCat("SELECT ", kCertificateColumns,
                           " FROM certificates WHERE serial = ANY($1::bytea[]) ORDER BY serial "
                           "FOR UPDATE"),
              ByteaArrayParam(serials));
          for (const pqxx::row& row : certificate_rows) {
            by_serial.emplace(pqxx::binarystring(row[0]).str(), row);
          }
        }
        if (!devices.empty()) {
          for (const pqxx::row& row :
               tx.exec_params("SELECT serial FROM devices WHERE serial = ANY($1::text[])",
                              TextArrayParam(devices))) {
            known_devices.insert(row[0].as<std::string>());
          }
          device_certificate_rows = tx.exec_params(
              absl::StrCat("SELECT ", kCertificateColumns,
                           " FROM certificates WHERE device_serial = ANY($1::text[]) "
                           "ORDER BY serial FOR UPDATE"),
              TextArrayParam(devices));
          for (const pqxx::row& row : device_certificate_rows) {
            by_device[row[3].as<std::string>()].push_back(row);
          }
          // Each device's certificates in the order they were issued, as the audit lists them.
          for (auto& [device, rows] : by_device) {
            std::stable_sort(rows.begin(), rows.end(), [](const pqxx::row& a, const pqxx::row& b) {
              return a[5].as<int64_t>() < b[5].as<int64_t>();
            });
          }
        }

        Collector collector{result, {}};
        std::vector<AuditEvent> events;
        for (size_t i = 0; i < request.targets.size(); ++i) {
          if (i % kAuditProgressStep == 0 &&
              !report(RevocationProgress::Step::kChecking, i, targets)) {
            return stopped;
          }
          const RevocationTarget& target = request.targets[i];
          const int reason = target.reason.value_or(request.reason);
          nlohmann::json details = {{"reason", ca::RevocationReasonName(reason)}};
          if (invalidity)
            details["invalidity_date"] = FormatRfc3339Micros(*request.invalidity_date);
          if (target.kind == RevocationTarget::Kind::kCertificate) {
            const auto found = by_serial.find(target.id);
            if (found == by_serial.end()) {
              return absl::NotFoundError(
                  absl::StrCat(IndexedField("targets", i, "certificate_serial"),
                               ": no certificate ", HexEncode(target.id)));
            }
            const std::vector<size_t> added = collector.Take({found->second}, i, reason, true);
            if (added.empty()) continue;
            const RevokedCertificate& revoked = result.revoked[added.front()];
            details["issuer_id"] = revoked.issuer_id;
            details["profile"] = revoked.profile;
            if (revoked.device_serial) details["device_serial"] = *revoked.device_serial;
            events.push_back(
                {request.actor, "certificate.revoked", HexEncode(target.id), std::move(details)});
          } else {
            if (!known_devices.contains(target.id)) {
              return absl::NotFoundError(absl::StrCat(IndexedField("targets", i, "device_serial"),
                                                      ": no device ", AsAbsl(target.id)));
            }
            const auto rows = by_device.find(target.id);
            if (rows == by_device.end()) continue;
            const std::vector<size_t> added = collector.Take(rows->second, i, reason, false);
            if (added.empty()) continue;
            details["revoked_certificate_serials"] = SerialsInHex(result, added);
            events.push_back(
                {request.actor, "device.certificates.revoked", target.id, std::move(details)});
          }
        }
        if (request.dry_run || result.revoked.empty()) return result;
        if (!report(RevocationProgress::Step::kUpdating, 0, result.revoked.size())) return stopped;

        std::vector<std::string_view> revoked_serials;
        std::vector<std::string> reasons;
        revoked_serials.reserve(result.revoked.size());
        reasons.reserve(result.revoked.size());
        for (const RevokedCertificate& revoked : result.revoked) {
          revoked_serials.push_back(revoked.serial);
          reasons.push_back(absl::StrCat(revoked.reason));
        }
        const std::string update_from =
            " FROM unnest($1::bytea[], $2::text[]) AS v(serial, reason) "
            "WHERE certificates.serial = v.serial";
        if (invalidity) {
          tx.exec_params(
              absl::StrCat("UPDATE certificates SET status = 'revoked', revoked_at = now(), "
                           "revocation_reason = v.reason::smallint, "
                           "invalidity_date = $3::timestamptz",
                           update_from),
              ByteaArrayParam(revoked_serials), TextArrayParam(reasons), *invalidity);
        } else {
          tx.exec_params(
              absl::StrCat("UPDATE certificates SET status = 'revoked', revoked_at = now(), "
                           "revocation_reason = v.reason::smallint",
                           update_from),
              ByteaArrayParam(revoked_serials), TextArrayParam(reasons));
        }
        std::vector<const AuditEvent*> pointers;
        pointers.reserve(events.size());
        for (const AuditEvent& event : events) pointers.push_back(&event);
        if (!report(RevocationProgress::Step::kRecording, 0, pointers.size())) return stopped;
        KEYLINE_RETURN_IF_ERROR(AppendAuditEvents(tx, pointers, [&](size_t written) {
                                  report(RevocationProgress::Step::kRecording, written,
                                         pointers.size());
                                }).status());
        // Also false when cancelled while the audit rows were written: still nothing committed.
        if (!report(RevocationProgress::Step::kCommitting, 0, 1)) return stopped;
        NotifyCertificatesChanged(tx);
        return result;
      });
}

}  // namespace keyline::store
