// Internal to store/: the certificates table's rows in both directions, shared by every path that
// stores certificates (IssuanceWriter's batches, CertificateRepository::InsertWithAudit,
// DeviceRepository::Register) and every look-up that returns them.
#pragma once

#include <optional>
#include <pqxx/result>
#include <pqxx/stream_to>
#include <pqxx/transaction_base>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/composed_statement.h"
#include "store/records.h"

namespace keyline::store {

// Checks what the database would otherwise reject: serial (1 to 20 bytes, no leading zero byte,
// so each serial has one stored form), finite times, text that is UTF-8 without NUL characters.
// InvalidArgument naming the field as `field` + ".serial" etc.
[[nodiscard]] absl::Status ValidateCertificate(const CertificateRecord& certificate,
                                               std::string_view field);

// The columns CopyCertificate writes, in order (for pqxx::stream_to).
const std::vector<std::string>& CertificateCopyColumns();

// Writes one row to a COPY on CertificateCopyColumns(). `device_serial` overrides the record's
// (the enrollment's device). InvalidArgument for non-finite times.
[[nodiscard]] absl::Status CopyCertificate(const CertificateRecord& certificate,
                                           const std::optional<std::string>& device_serial,
                                           pqxx::stream_to& copy);

// Adds the INSERT of the certificates (each with its device_serial override, as CopyCertificate)
// to `statement`, as INSERT ... SELECT FROM unnest(...): for a few rows, where COPY's setup and
// extra round trip cost more than the rows. The caller executes the statement, with
// NotifyCertificatesChangedCall() in its final SELECT. InvalidArgument for non-finite times
// (nothing added).
[[nodiscard]] absl::Status AddCertificateInsert(
    ComposedStatement& statement, std::span<const CertificateRecord* const> certificates,
    std::span<const std::optional<std::string>> device_serials);

// Which of `serials` (raw) are stored, one index probe each.
std::unordered_set<std::string> StoredSerials(pqxx::transaction_base& transaction,
                                              const std::vector<std::string_view>& serials);

// The select list matching CertificateFromRow, for a query on `certificates` aliased `alias`.
std::string CertificateSelectList(std::string_view alias);

// A record from `row`, whose columns from `first` on are CertificateSelectList's.
CertificateRecord CertificateFromRow(const pqxx::row& row, size_t first = 0);

}  // namespace keyline::store
