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
#include "common/status_macros.h"
#include "store/audit_appender.h"
#include "store/audit_chain.h"
#include "store/certificate_rows.h"
#include "store/certificate_status_feed.h"
#include "store/composed_statement.h"
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

// What a batch reads before deciding: the rows DecideIssuances needs, and the audit chain's head.
struct BatchRead {
  IssuanceBatchState state;
  AuditHead head;
};

// Reads what DecideIssuances needs and locks the audit head, in one statement (one round trip).
// It locks the enrollment rows' challenges first, then their devices, then the certificates
// renewals present, then the CAs that issue them (share: a rotation's UPDATE that retires one
// waits, or is seen), each in key order (ORDER BY before FOR UPDATE locks rows in that order), then
// the audit head (a rotation also locks its CA row before the head): an Append runs its branches in
// order. Batches of several writers, DeviceRepository's transactions (device locks, then
// certificates, then the audit head) and revocations (certificates, then the audit head) therefore
// never wait on each other in a cycle. A renewal's certificate is share-locked for the reason its
// manufacturer is: a revocation that committed during the wait is seen. NO KEY UPDATE on devices:
// what an UPDATE of the state takes; it conflicts with DeviceRepository's locks but not with the
// KEY SHARE locks of rows that reference the device. The manufacturer's row is share-locked with
// its device: a revocation that committed while this statement waited (for a device, or for the
// audit head its own transaction held) is then read as it is now, not from the statement's
// snapshot, so no certificate is audited after its manufacturer's revocation. CompleteEnrollment
// may have checked the status from BeginEnrollment's snapshot. The clock is the head's, read after
// every lock.
//
// The recorded request_ids and stored serials are read in the statement's snapshot, taken before
// any lock wait. A retry of a request that completed while this batch waited for its challenge
// finds the challenge used (locked rows are read as they are after the wait): its request_id is
// then read again after the locks. A serial or request_id that slipped in otherwise fails the
// INSERT with a unique violation, and IssuanceWriter retries the rows one by one, each reading
// afresh.
absl::StatusOr<BatchRead> ReadBatch(pqxx::transaction_base& transaction,
                                    std::span<const IssuanceWrite* const> writes) {
  std::vector<std::string_view> serials;
  std::vector<std::string_view> challenge_ids;
  std::vector<std::string_view> device_serials;
  std::vector<std::string_view> request_ids;
  std::vector<std::string_view> renewed_serials;
  std::vector<std::string> issuer_ids;  // one per enrollment row, as text
  serials.reserve(writes.size());
  for (const IssuanceWrite* write : writes) {
    serials.push_back(write->certificate.serial);
    if (write->enrollment) {
      challenge_ids.push_back(write->enrollment->challenge_id);
      device_serials.push_back(write->enrollment->device_serial);
      request_ids.push_back(write->enrollment->request_id);
      if (!write->enrollment->renewed_certificate_serial.empty()) {
        renewed_serials.push_back(write->enrollment->renewed_certificate_serial);
      }
      issuer_ids.push_back(absl::StrCat(write->certificate.issuer_id));
    }
  }
  // Columns: kind, a bytea, four texts, two bigints, a boolean. Kind 'c': a challenge; 'd': a
  // device; 'k': a renewal's certificate; 'a': an issuing CA (status, id); 'h': the audit head and
  // the clock; 'r': a recorded request_id; 's': a stored serial.
  static const std::string* const kRead = new std::string(absl::StrCat(
      "WITH c AS MATERIALIZED (SELECT id, device_serial, purpose, ", EpochMicrosSql("expires_at"),
      " AS expires_at, used_at IS NOT NULL AS used FROM challenges "
      "WHERE id = ANY ($1::bytea[]) ORDER BY id FOR UPDATE), "
      "d AS MATERIALIZED (SELECT d.serial, d.state, d.deployment, m.status FROM devices d "
      "JOIN manufacturers m ON m.id = d.manufacturer_id WHERE d.serial = ANY ($2::text[]) "
      "ORDER BY d.serial FOR NO KEY UPDATE OF d FOR SHARE OF m), "
      "k AS MATERIALIZED (SELECT serial, status, ",
      EpochMicrosSql("not_after"),
      " AS not_after FROM certificates WHERE serial = ANY ($5::bytea[]) ORDER BY serial "
      "FOR SHARE), "
      "a AS MATERIALIZED (SELECT id, status FROM certificate_authorities "
      "WHERE id = ANY ($6::integer[]) ORDER BY id FOR SHARE), "
      "h (seq, row_hash, now) AS MATERIALIZED (",
      AuditHeadLockSql(),
      ") "
      "SELECT 'c', id, device_serial, purpose, NULL::text, NULL::text, expires_at, NULL::bigint, "
      "used FROM c "
      "UNION ALL SELECT 'd', NULL, serial, state, deployment, status, NULL, NULL, NULL FROM d "
      "UNION ALL SELECT 'k', serial, status, NULL, NULL, NULL, not_after, NULL, NULL FROM k "
      "UNION ALL SELECT 'a', NULL, status, NULL, NULL, NULL, id, NULL, NULL FROM a "
      "UNION ALL SELECT 'h', NULL, row_hash, NULL, NULL, NULL, seq, now, NULL FROM h "
      "UNION ALL SELECT 'r', NULL, request_id, NULL, NULL, NULL, NULL, NULL, NULL "
      "FROM enrollments WHERE request_id = ANY ($3::text[]) "
      "UNION ALL SELECT 's', serial, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
      "FROM certificates WHERE serial = ANY ($4::bytea[])"));
  BatchRead read;
  IssuanceBatchState& state = read.state;
  bool head_read = false;
  for (const pqxx::row& row :
       ExecPrepared(transaction, "issuance.read", *kRead,
                    ByteaArrayParam(Distinct(std::move(challenge_ids))),
                    TextArrayParam(Distinct(std::move(device_serials))),
                    TextArrayParam(Distinct(std::move(request_ids))),
                    ByteaArrayParam(Distinct(std::move(serials))),
                    ByteaArrayParam(Distinct(std::move(renewed_serials))),
                    TextArrayParam(Distinct({issuer_ids.begin(), issuer_ids.end()})))) {
    switch (row[0].c_str()[0]) {
      case 'c':
        state.challenges[pqxx::binarystring(row[1]).str()] =
            LockedChallenge{row[2].as<std::string>(), row[3].as<std::string>(),
                            FromEpochMicros(row[6].as<int64_t>()), row[8].as<bool>()};
        break;
      case 'd':
        state.devices[row[2].as<std::string>()] = LockedDevice{
            row[3].as<std::string>(), NullableField<std::string>(row[4]), row[5].as<std::string>()};
        break;
      case 'h': {
        absl::StatusOr<AuditHead> head = AuditHeadFromColumns(row[6], row[2], row[7]);
        if (!head.ok()) return head.status();
        read.head = *std::move(head);
        state.now = read.head.now;
        head_read = true;
        break;
      }
      case 'k':
        state.renewed_certificates[pqxx::binarystring(row[1]).str()] = LockedRenewedCertificate{
            row[2].as<std::string>(), FromEpochMicros(row[6].as<int64_t>())};
        break;
      case 'r':
        state.recorded_request_ids.insert(row[2].as<std::string>());
        break;
      case 'a':
        state.issuer_statuses[static_cast<int32_t>(row[6].as<int64_t>())] =
            row[2].as<std::string>();
        break;
      default:
        state.stored_serials.insert(pqxx::binarystring(row[1]).str());
    }
  }
  if (!head_read) return absl::InternalError("audit_head: no row");

  // A used challenge may be a retry's whose request completed while this batch waited for the
  // lock, after the statement's snapshot: read those request_ids again, now, so that the retry
  // hears "already completed" rather than "challenge: already used". Rare: retries and replays.
  std::vector<std::string_view> recheck;
  for (const IssuanceWrite* write : writes) {
    if (!write->enrollment) continue;
    const auto challenge = state.challenges.find(write->enrollment->challenge_id);
    if (challenge != state.challenges.end() && challenge->second.used &&
        !state.recorded_request_ids.contains(write->enrollment->request_id)) {
      recheck.push_back(write->enrollment->request_id);
    }
  }
  if (!recheck.empty()) {
    for (const pqxx::row& row :
         ExecPrepared(transaction, "issuance.recorded_request_ids",
                      "SELECT request_id FROM enrollments WHERE request_id = ANY ($1::text[])",
                      TextArrayParam(Distinct(std::move(recheck))))) {
      state.recorded_request_ids.insert(row[0].as<std::string>());
    }
  }
  return read;
}

// For the enrollment rows that are stored: their challenges become used, their devices enrolled
// (where claimed), and their (request_id -> certificate) pairs recorded, as clauses of the batch's
// write statement.
void AddEnrollmentUpdates(ComposedStatement& statement,
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
  std::string devices = TextArrayParam(device_serials);
  statement.With("challenges_used",
                 "UPDATE challenges SET used_at = $1::timestamptz WHERE id = ANY ($2::bytea[])",
                 {FormatRfc3339Micros(now), ByteaArrayParam(challenge_ids)});
  statement.With("devices_enrolled",
                 "UPDATE devices SET state = 'enrolled' "
                 "WHERE serial = ANY ($1::text[]) AND state = 'claimed'",
                 {devices});
  statement.With(
      "enrollments_recorded",
      "INSERT INTO enrollments (request_id, device_serial, certificate_serial) "
      "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])",
      {TextArrayParam(request_ids), std::move(devices), ByteaArrayParam(certificate_serials)});
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
  absl::StatusOr<BatchRead> read = ReadBatch(transaction, writes);
  if (!read.ok()) return read.status();
  std::vector<absl::Status> statuses = DecideIssuances(writes, read->state);

  std::vector<const IssuanceWrite*> stored;
  std::vector<const IssuanceWrite*> enrollments;
  stored.reserve(writes.size());
  for (size_t i = 0; i < writes.size(); ++i) {
    if (!statuses[i].ok()) continue;
    stored.push_back(writes[i]);
    if (writes[i]->enrollment) enrollments.push_back(writes[i]);
  }
  if (stored.empty()) return statuses;

  // Everything but COPYs and new operators goes in as one statement (composed_statement.h).
  ComposedStatement write_statement;

  // An enrollment's certificate belongs to the enrolling device (ValidateEnrollment checked that
  // the record names no other). Another writer storing one of the same serials in between
  // (random 64-bit+ serials make that a bug, not an event) fails the statement with a unique
  // violation, and the caller retries row by row.
  const auto device_serial_of = [](const IssuanceWrite* write) {
    return write->enrollment ? std::optional(write->enrollment->device_serial) : std::nullopt;
  };
  if (stored.size() <= kMaxCertificatesPerInsert) {
    std::vector<const CertificateRecord*> certificates;
    std::vector<std::optional<std::string>> device_serials;
    for (const IssuanceWrite* write : stored) {
      certificates.push_back(&write->certificate);
      device_serials.push_back(device_serial_of(write));
    }
    KEYLINE_RETURN_IF_ERROR(AddCertificateInsert(write_statement, certificates, device_serials));
  } else {
    // COPY costs the server far less per row than INSERT for many.
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

  AddEnrollmentUpdates(write_statement, enrollments, read->state.now);

  std::vector<const AuditEvent*> events;
  events.reserve(stored.size());
  for (const IssuanceWrite* write : stored) events.push_back(&write->audit);
  KEYLINE_RETURN_IF_ERROR(
      AppendAuditEventsAfter(transaction, read->head, events, write_statement).status());

  // The statement notifies the status feed whichever way the certificates went in.
  static const std::string* const kNotify =
      new std::string(absl::StrCat("SELECT ", NotifyCertificatesChangedCall()));
  write_statement.Execute(transaction, "issuance.write", *kNotify);
  return statuses;
}

}  // namespace keyline::store
