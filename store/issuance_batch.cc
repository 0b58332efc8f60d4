#include "store/issuance_batch.h"

#include <algorithm>
#include <pqxx/prepared_statement>
#include <pqxx/result>
#include <pqxx/stream_to>
#include <string>
#include <string_view>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "store/audit_appender.h"
#include "store/audit_chain.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

// RFC 5280, section 4.1.2.2: serials are at most 20 octets.
constexpr size_t kMaxSerialBytes = 20;

const std::vector<std::string> kCertificateColumns = {
    "serial",    "issuer_id", "profile", "subject",    "not_before",
    "not_after", "der",       "status",  "revoked_at", "revocation_reason"};
const std::vector<std::string_view> kOperatorColumnCasts = {"::text", "::text", "::text"};

// A statement takes at most 65535 parameters.
constexpr size_t kOperatorsPerInsert = 65535 / 3;

absl::Status CheckText(std::string_view text, std::string_view field) {
  if (text.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": contains a NUL character"));
  }
  return absl::OkStatus();
}

absl::Status CopyCertificate(const CertificateRecord& certificate, pqxx::stream_to& copy) {
  absl::StatusOr<std::string> not_before =
      TimestamptzParam(certificate.not_before, "certificate.not_before");
  if (!not_before.ok()) return not_before.status();
  absl::StatusOr<std::string> not_after =
      TimestamptzParam(certificate.not_after, "certificate.not_after");
  if (!not_after.ok()) return not_after.status();
  std::optional<std::string> revoked_at;
  if (certificate.revoked_at) {
    absl::StatusOr<std::string> text =
        TimestamptzParam(*certificate.revoked_at, "certificate.revoked_at");
    if (!text.ok()) return text.status();
    revoked_at = *std::move(text);
  }
  const std::optional<std::string> reason =
      certificate.revocation_reason ? std::optional(absl::StrCat(*certificate.revocation_reason))
                                    : std::nullopt;
  // NULLs as null pointers: libpqxx 6.4 as packaged has no std::optional support.
  copy << std::make_tuple(
      ByteaParam(certificate.serial), certificate.issuer_id, certificate.profile,
      certificate.subject, *not_before, *not_after, ByteaParam(certificate.der), certificate.status,
      revoked_at ? revoked_at->c_str() : nullptr, reason ? reason->c_str() : nullptr);
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateIssuanceWrite(const IssuanceWrite& write) {
  const CertificateRecord& certificate = write.certificate;
  if (certificate.serial.empty() || certificate.serial.size() > kMaxSerialBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate.serial: must be 1 to ", kMaxSerialBytes, " bytes"));
  }
  if (certificate.serial[0] == '\0') {
    return absl::InvalidArgumentError(
        "certificate.serial: leading zero byte (store the minimal big-endian magnitude)");
  }
  for (const auto& [time, field] : {std::pair{certificate.not_before, "certificate.not_before"},
                                    std::pair{certificate.not_after, "certificate.not_after"}}) {
    if (absl::StatusOr<std::string> text = TimestamptzParam(time, field); !text.ok()) {
      return text.status();
    }
  }
  if (certificate.revoked_at) {
    if (absl::StatusOr<std::string> text =
            TimestamptzParam(*certificate.revoked_at, "certificate.revoked_at");
        !text.ok()) {
      return text.status();
    }
  }
  for (const auto& [text, field] :
       {std::pair<std::string_view, std::string_view>{certificate.profile, "certificate.profile"},
        {certificate.subject, "certificate.subject"},
        {certificate.status, "certificate.status"}}) {
    if (absl::Status status = CheckText(text, field); !status.ok()) return status;
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
  return ValidateAuditEvent(write.audit);
}

absl::StatusOr<std::vector<absl::Status>> StoreIssuances(
    pqxx::transaction_base& transaction, std::span<const IssuanceWrite* const> writes) {
  std::vector<absl::Status> statuses(writes.size(), absl::OkStatus());
  const absl::Status already_stored =
      absl::AlreadyExistsError("a certificate with this serial is already stored");

  // A serial repeated within the batch: the first one wins, before SQL sees either, so which
  // row was stored never depends on how the database orders a multi-row insert.
  std::vector<size_t> candidates;
  candidates.reserve(writes.size());
  {
    std::unordered_set<std::string_view> seen;
    for (size_t i = 0; i < writes.size(); ++i) {
      if (seen.insert(writes[i]->certificate.serial).second) {
        candidates.push_back(i);
      } else {
        statuses[i] = already_stored;
      }
    }
  }

  // Serials already stored are found with one index probe each; the rest go in by COPY, which
  // costs the server far less per row than INSERT ... ON CONFLICT. Another writer storing one of
  // the same serials in between (random 64-bit+ serials make that a bug, not an event) makes the
  // COPY fail with a unique violation, and the caller retries row by row.
  std::unordered_set<std::string> existing_hex;
  if (!candidates.empty()) {
    std::string serials = "{";
    for (size_t k = 0; k < candidates.size(); ++k) {
      if (k > 0) serials += ',';
      serials += HexEncode(writes[candidates[k]]->certificate.serial);
    }
    serials += '}';
    for (const pqxx::row& row : transaction.exec_params(
             "SELECT encode(serial, 'hex') FROM certificates WHERE serial = ANY "
             "(ARRAY(SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h))",
             serials)) {
      existing_hex.insert(row[0].as<std::string>());
    }
  }

  std::vector<const IssuanceWrite*> stored;
  stored.reserve(candidates.size());
  {
    pqxx::stream_to copy(transaction, "certificates", kCertificateColumns);
    for (size_t i : candidates) {
      const CertificateRecord& certificate = writes[i]->certificate;
      if (existing_hex.contains(HexEncode(certificate.serial))) {
        statuses[i] = already_stored;
        continue;
      }
      absl::Status status = CopyCertificate(certificate, copy);
      if (!status.ok()) {
        copy.complete();
        return status;
      }
      stored.push_back(writes[i]);
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

  std::vector<const AuditEvent*> events;
  events.reserve(stored.size());
  for (const IssuanceWrite* write : stored) events.push_back(&write->audit);
  if (absl::StatusOr<int64_t> first_seq = AppendAuditEvents(transaction, events); !first_seq.ok()) {
    return first_seq.status();
  }
  return statuses;
}

}  // namespace keyline::store
