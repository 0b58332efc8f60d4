#include "store/issuance_batch.h"

#include <algorithm>
#include <pqxx/binarystring>
#include <pqxx/nontransaction>
#include <pqxx/prepared_statement>
#include <pqxx/result>
#include <pqxx/stream_to>
#include <string>
#include <string_view>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "store/audit_appender.h"
#include "store/audit_chain.h"
#include "store/certificate_rows.h"
#include "store/certificate_status_feed.h"
#include "store/field_checks.h"
#include "store/issuance_decisions.h"
#include "store/prepared_statement.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

const std::vector<std::string_view> kOperatorColumnCasts = {"::text", "::text", "::text"};

// Up to this many certificates go in with one prepared INSERT, more by COPY, whose setup and
// extra round trip cost more than a small batch's rows (pg_stat_statements under bench/enroll:
// 193 us per COPY of 3.3 rows).
constexpr size_t kMaxCertificatesPerInsert = 32;

// A statement takes at most 65535 parameters.
constexpr size_t kOperatorsPerInsert = 65535 / 3;

// Every value of `values` once, in first-seen order.
std::vector<std::string_view> Distinct(std::vector<std::string_view> values) {
  std::unordered_set<std::string_view> seen;
  std::erase_if(values, [&](std::string_view value) { return !seen.insert(value).second; });
  return values;
}

// Reads what DecideIssuances needs. For enrollment rows it first locks their challenges, then
// their devices, each in key order (ORDER BY before FOR UPDATE locks rows in that order), so
// batches of several writers and DeviceRepository's transactions (device locks, then the audit
// head) never wait on each other in a cycle. The clock, the recorded request_ids and the stored
// serials are read after the locks were granted, in one round trip: a retry of a request that
// completed while this batch waited for its challenge therefore sees the recorded request_id.
IssuanceBatchState ReadBatchState(pqxx::transaction_base& transaction,
                                  std::span<const IssuanceWrite* const> writes) {
  IssuanceBatchState state;
  std::vector<std::string_view> serials;
  std::vector<std::string_view> challenge_ids;
  std::vector<std::string_view> device_serials;
  std::vector<std::string_view> request_ids;
  serials.reserve(writes.size());
  for (const IssuanceWrite* write : writes) {
    serials.push_back(write->certificate.serial);
    if (write->enrollment) {
      challenge_ids.push_back(write->enrollment->challenge_id);
      device_serials.push_back(write->enrollment->device_serial);
      request_ids.push_back(write->enrollment->request_id);
    }
  }
  serials = Distinct(std::move(serials));
  if (challenge_ids.empty()) {
    // Plain certificates only: the serial look-up is all there is to read.
    for (const pqxx::row& row :
         ExecPrepared(transaction, "issuance.stored_serials",
                      "SELECT serial FROM certificates WHERE serial = ANY ($1::bytea[])",
                      ByteaArrayParam(serials))) {
      state.stored_serials.insert(pqxx::binarystring(row[0]).str());
    }
    return state;
  }

  // One statement, one round trip: the challenges' rows are locked first (an Append runs its
  // branches in order), then the devices'. NO KEY UPDATE: what an UPDATE of the state takes; it
  // conflicts with DeviceRepository's locks but not with the KEY SHARE locks of rows that
  // reference the device (a new challenge). The manufacturer's status comes along, unlocked: a
  // revocation committed before this batch is seen; CompleteEnrollment may have checked it from
  // BeginEnrollment's snapshot. Kind 'c': a challenge; 'd': a device.
  static const std::string* const kLockRows = new std::string(absl::StrCat(
      "WITH c AS MATERIALIZED (SELECT id, device_serial, purpose, ", EpochMicrosSql("expires_at"),
      " AS expires_at, used_at IS NOT NULL AS used FROM challenges "
      "WHERE id = ANY ($1::bytea[]) ORDER BY id FOR UPDATE), "
      "d AS MATERIALIZED (SELECT d.serial, d.state, d.deployment, m.status FROM devices d "
      "JOIN manufacturers m ON m.id = d.manufacturer_id WHERE d.serial = ANY ($2::text[]) "
      "ORDER BY d.serial FOR NO KEY UPDATE OF d) "
      "SELECT 'c', id, device_serial, purpose, expires_at, used, NULL, NULL FROM c "
      "UNION ALL SELECT 'd', NULL, serial, state, NULL, NULL, deployment, status FROM d"));
  for (const pqxx::row& row : ExecPrepared(transaction, "issuance.lock_rows", *kLockRows,
                                           ByteaArrayParam(Distinct(std::move(challenge_ids))),
                                           TextArrayParam(Distinct(std::move(device_serials))))) {
    if (row[0].as<std::string>() == "c") {
      state.challenges[pqxx::binarystring(row[1]).str()] =
          LockedChallenge{row[2].as<std::string>(), row[3].as<std::string>(),
                          FromEpochMicros(row[4].as<int64_t>()), row[5].as<bool>()};
    } else {
      state.devices[row[2].as<std::string>()] = LockedDevice{
          row[3].as<std::string>(), NullableField<std::string>(row[6]), row[7].as<std::string>()};
    }
  }
  // kind 'n': the clock; 'r': a recorded request_id; 's': a stored serial.
  static const std::string* const kReadState =
      new std::string(absl::StrCat("SELECT 'n', ", EpochMicrosSql("clock_timestamp()"),
                                   "::text, NULL::bytea "
                                   "UNION ALL SELECT 'r', request_id, NULL FROM enrollments "
                                   "WHERE request_id = ANY ($1::text[]) "
                                   "UNION ALL SELECT 's', NULL, serial FROM certificates "
                                   "WHERE serial = ANY ($2::bytea[])"));
  for (const pqxx::row& row :
       ExecPrepared(transaction, "issuance.read_state", *kReadState,
                    TextArrayParam(Distinct(std::move(request_ids))), ByteaArrayParam(serials))) {
    const std::string kind = row[0].as<std::string>();
    if (kind == "n") {
      state.now = FromEpochMicros(row[1].as<int64_t>());
    } else if (kind == "r") {
      state.recorded_request_ids.insert(row[1].as<std::string>());
    } else {
      state.stored_serials.insert(pqxx::binarystring(row[2]).str());
    }
  }
  return state;
}

// For the enrollment rows that are stored: their challenges become used, their devices enrolled
// (where claimed), and their (request_id -> certificate) pairs recorded, in one statement.
void ApplyEnrollments(pqxx::transaction_base& transaction,
                      const std::vector<const IssuanceWrite*>& enrollments, absl::Time now) {
  if (enrollments.empty()) return;
  std::vector<std::string_view> challenge_ids;
  std::vector<std::string_view> device_serials;
  std::vector<std::string_view> request_ids;
  std::vector<std::string_view> certificate_serials;
  for (const IssuanceWrite* write : enrollments) {
    challenge_ids.push_back(write->enrollment->challenge_id);
    device_serials.push_back(write->enrollment->device_serial);
    request_ids.push_back(write->enrollment->request_id);
    certificate_serials.push_back(write->certificate.serial);
  }
  // Data-modifying WITH clauses always run to completion, referenced or not.
  ExecPrepared(transaction, "issuance.apply_enrollments",
               "WITH used AS (UPDATE challenges SET used_at = $1::timestamptz WHERE id = ANY "
               "($2::bytea[])), "
               "enrolled AS (UPDATE devices SET state = 'enrolled' "
               "WHERE serial = ANY ($3::text[]) AND state = 'claimed') "
               "INSERT INTO enrollments (request_id, device_serial, certificate_serial) "
               "SELECT * FROM unnest($4::text[], $3::text[], $5::bytea[])",
               FormatRfc3339Micros(now), ByteaArrayParam(challenge_ids),
               TextArrayParam(device_serials), TextArrayParam(request_ids),
               ByteaArrayParam(certificate_serials));
}

}  // namespace

absl::Status ValidateIssuanceWrite(const IssuanceWrite& write) {
  const CertificateRecord& certificate = write.certificate;
  if (absl::Status status = ValidateCertificate(certificate, "certificate"); !status.ok()) {
    return status;
  }
  if (write.operator_record) {
    const OperatorRecord& record = *write.operator_record;
    for (const auto& [text, field] :
         {std::pair<std::string_view, std::string_view>{record.role, "operator.role"},
          {record.name, "operator.name"},
          {record.created_by, "operator.created_by"}}) {
      if (absl::Status status = CheckText(text, field); !status.ok()) return status;
    }
  }
  if (write.enrollment) {
    if (absl::Status status = ValidateEnrollment(*write.enrollment, certificate); !status.ok()) {
      return status;
    }
  }
  return ValidateAuditEvent(write.audit);
}

absl::StatusOr<std::vector<absl::Status>> StoreIssuances(
    pqxx::transaction_base& transaction, std::span<const IssuanceWrite* const> writes) {
  const IssuanceBatchState state = ReadBatchState(transaction, writes);
  std::vector<absl::Status> statuses = DecideIssuances(writes, state);

  std::vector<const IssuanceWrite*> stored;
  std::vector<const IssuanceWrite*> enrollments;
  stored.reserve(writes.size());
  for (size_t i = 0; i < writes.size(); ++i) {
    if (!statuses[i].ok()) continue;
    stored.push_back(writes[i]);
    if (writes[i]->enrollment) enrollments.push_back(writes[i]);
  }

  // An enrollment's certificate belongs to the enrolling device (ValidateEnrollment checked that
  // the record names no other). Another writer storing one of the same serials in between
  // (random 64-bit+ serials make that a bug, not an event) fails the statement with a unique
  // violation, and the caller retries row by row.
  const auto device_serial_of = [](const IssuanceWrite* write) {
    return write->enrollment ? std::optional(write->enrollment->device_serial) : std::nullopt;
  };
  // Many by COPY, which cannot notify; a few by InsertCertificates, which notifies itself.
  const bool by_copy = stored.size() > kMaxCertificatesPerInsert;
  if (!by_copy && !stored.empty()) {
    std::vector<const CertificateRecord*> certificates;
    std::vector<std::optional<std::string>> device_serials;
    for (const IssuanceWrite* write : stored) {
      certificates.push_back(&write->certificate);
      device_serials.push_back(device_serial_of(write));
    }
    if (absl::Status status = InsertCertificates(transaction, certificates, device_serials);
        !status.ok()) {
      return status;
    }
  } else if (by_copy) {
    // COPY costs the server far less per row than INSERT ... ON CONFLICT.
    pqxx::stream_to copy(transaction, "certificates", CertificateCopyColumns());
    for (const IssuanceWrite* write : stored) {
      absl::Status status = CopyCertificate(write->certificate, device_serial_of(write), copy);
      if (!status.ok()) {
        copy.complete();
        return status;
      }
    }
    copy.complete();
  }

  std::vector<const IssuanceWrite*> with_operator;
  for (const IssuanceWrite* write : stored) {
    if (write->operator_record) with_operator.push_back(write);
  }
  for (size_t start = 0; start < with_operator.size(); start += kOperatorsPerInsert) {
    const size_t count = std::min(kOperatorsPerInsert, with_operator.size() - start);
    SqlParams params;
    for (size_t k = start; k < start + count; ++k) {
      const OperatorRecord& record = *with_operator[k]->operator_record;
      params.Add(record.role);
      params.Add(record.name);
      params.Add(record.created_by);
    }
    transaction.exec_params(
        absl::StrCat("INSERT INTO operators (role, name, created_by) VALUES ",
                     ValuesPlaceholders(count, kOperatorColumnCasts), " ON CONFLICT DO NOTHING"),
        pqxx::prepare::make_dynamic_params(params.Pointers()));
  }

  ApplyEnrollments(transaction, enrollments, state.now);

  std::vector<const AuditEvent*> events;
  events.reserve(stored.size());
  for (const IssuanceWrite* write : stored) events.push_back(&write->audit);
  if (absl::StatusOr<int64_t> first_seq = AppendAuditEvents(transaction, events); !first_seq.ok()) {
    return first_seq.status();
  }
  if (by_copy) NotifyCertificatesChanged(transaction);
  return statuses;
}

}  // namespace keyline::store
