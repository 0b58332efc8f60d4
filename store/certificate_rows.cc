#include "store/certificate_rows.h"

#include <array>
#include <pqxx/binarystring>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/hex.h"
#include "store/field_checks.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {

namespace {

// RFC 5280, section 4.1.2.2: serials are at most 20 octets.
constexpr size_t kMaxSerialBytes = 20;

}  // namespace

absl::Status ValidateCertificate(const CertificateRecord& certificate, std::string_view field) {
  const absl::string_view prefix = AsAbsl(field);
  if (certificate.serial.empty() || certificate.serial.size() > kMaxSerialBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, ".serial: must be 1 to ", kMaxSerialBytes, " bytes"));
  }
  if (certificate.serial[0] == '\0') {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, ".serial: leading zero byte (store the minimal big-endian magnitude)"));
  }
  // Field names are built only for a failure: this runs for every issued certificate.
  const auto finite = [](absl::Time time) {
    return time != absl::InfiniteFuture() && time != absl::InfinitePast();
  };
  for (const auto& [time, name] : {std::pair{certificate.not_before, "not_before"},
                                   std::pair{certificate.not_after, "not_after"}}) {
    if (!finite(time)) return TimestamptzParam(time, absl::StrCat(prefix, ".", name)).status();
  }
  if (certificate.revoked_at && !finite(*certificate.revoked_at)) {
    return TimestamptzParam(*certificate.revoked_at, absl::StrCat(prefix, ".revoked_at")).status();
  }
  for (const auto& [text, name] :
       {std::pair<std::string_view, const char*>{certificate.profile, "profile"},
        {certificate.subject, "subject"},
        {certificate.status, "status"}}) {
    if (!CheckText(text, name).ok()) return CheckText(text, absl::StrCat(prefix, ".", name));
  }
  if (certificate.device_serial && !CheckNonEmptyText(*certificate.device_serial, "").ok()) {
    return CheckNonEmptyText(*certificate.device_serial, absl::StrCat(prefix, ".device_serial"));
  }
  return absl::OkStatus();
}

const std::vector<std::string>& CertificateCopyColumns() {
  static const std::vector<std::string> kColumns = {
      "serial", "issuer_id",  "profile",           "subject",      "not_before", "not_after",
      "der",    "status",     "revoked_at",        "revocation_reason", "device_serial"};
  return kColumns;
}

namespace {

// One row's values in CertificateCopyColumns() order, in PostgreSQL's text forms; nullopt: NULL.
using CertificateRowText = std::array<std::optional<std::string>, 11>;

absl::StatusOr<CertificateRowText> RowText(const CertificateRecord& certificate,
                                           const std::optional<std::string>& device_serial) {
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
  std::optional<std::string> reason;
  if (certificate.revocation_reason) reason = absl::StrCat(*certificate.revocation_reason);
  return CertificateRowText{ByteaParam(certificate.serial),
                            absl::StrCat(certificate.issuer_id),
                            certificate.profile,
                            certificate.subject,
                            *std::move(not_before),
                            *std::move(not_after),
                            ByteaParam(certificate.der),
                            certificate.status,
                            std::move(revoked_at),
                            std::move(reason),
                            device_serial ? device_serial : certificate.device_serial};
}

const char* NullableCString(const std::optional<std::string>& value) {
  return value ? value->c_str() : nullptr;
}

}  // namespace

absl::Status CopyCertificate(const CertificateRecord& certificate,
                             const std::optional<std::string>& device_serial,
                             pqxx::stream_to& copy) {
  absl::StatusOr<CertificateRowText> row = RowText(certificate, device_serial);
  if (!row.ok()) return row.status();
  // NULLs as null pointers: libpqxx 6.4 as packaged has no std::optional support.
  std::apply(
      [&copy](const auto&... values) { copy << std::make_tuple(NullableCString(values)...); },
      *row);
  return absl::OkStatus();
}

absl::Status AddCertificateInsert(ComposedStatement& statement,
                                  std::span<const CertificateRecord* const> certificates,
                                  std::span<const std::optional<std::string>> device_serials) {
  std::vector<CertificateRowText> rows;
  rows.reserve(certificates.size());
  for (size_t i = 0; i < certificates.size(); ++i) {
    absl::StatusOr<CertificateRowText> row = RowText(*certificates[i], device_serials[i]);
    if (!row.ok()) return row.status();
    rows.push_back(*std::move(row));
  }
  std::vector<std::string> columns(std::tuple_size_v<CertificateRowText>);
  for (size_t column = 0; column < columns.size(); ++column) {
    std::vector<std::optional<std::string_view>> values;
    values.reserve(rows.size());
    for (const CertificateRowText& row : rows) {
      values.push_back(row[column] ? std::optional<std::string_view>(*row[column]) : std::nullopt);
    }
    columns[column] = NullableTextArrayParam(values);
  }
  static const std::string* const kInsert = new std::string(absl::StrCat(
      "INSERT INTO certificates (", absl::StrJoin(CertificateCopyColumns(), ", "),
      ") SELECT * FROM unnest($1::bytea[], $2::integer[], $3::text[], $4::text[], "
      "$5::timestamptz[], $6::timestamptz[], $7::bytea[], $8::text[], $9::timestamptz[], "
      "$10::smallint[], $11::text[])"));
  statement.With("certificates_inserted", *kInsert, std::move(columns));
  return absl::OkStatus();
}

std::unordered_set<std::string> StoredSerials(pqxx::transaction_base& transaction,
                                              const std::vector<std::string_view>& serials) {
  std::unordered_set<std::string> stored;
  if (serials.empty()) return stored;
  for (const pqxx::row& row :
       transaction.exec_params("SELECT serial FROM certificates WHERE serial = ANY ($1::bytea[])",
                               ByteaArrayParam(serials))) {
    stored.insert(pqxx::binarystring(row[0]).str());
  }
  return stored;
}

std::string CertificateSelectList(std::string_view alias) {
  const absl::string_view a = AsAbsl(alias);
  return absl::StrCat(a, ".serial, ", a, ".issuer_id, ", a, ".profile, ", a, ".subject, ",
                      EpochMicrosSql(absl::StrCat(a, ".not_before")), ", ",
                      EpochMicrosSql(absl::StrCat(a, ".not_after")), ", ", a, ".der, ", a,
                      ".status, ", EpochMicrosSql(absl::StrCat(a, ".revoked_at")), ", ", a,
                      ".revocation_reason, ", a, ".device_serial");
}

CertificateRecord CertificateFromRow(const pqxx::row& row, size_t first) {
  const auto column = [&](size_t k) { return row[static_cast<pqxx::row::size_type>(first + k)]; };
  CertificateRecord certificate;
  certificate.serial = pqxx::binarystring(column(0)).str();
  certificate.issuer_id = column(1).as<int32_t>();
  certificate.profile = column(2).as<std::string>();
  certificate.subject = column(3).as<std::string>();
  certificate.not_before = FromEpochMicros(column(4).as<int64_t>());
  certificate.not_after = FromEpochMicros(column(5).as<int64_t>());
  certificate.der = pqxx::binarystring(column(6)).str();
  certificate.status = column(7).as<std::string>();
  if (!column(8).is_null()) certificate.revoked_at = FromEpochMicros(column(8).as<int64_t>());
  certificate.revocation_reason = NullableField<int16_t>(column(9));
  certificate.device_serial = NullableField<std::string>(column(10));
  return certificate;
}

}  // namespace keyline::store
