// Internal to store/: the SQL of storing issued certificates, shared by IssuanceWriter (many rows
// per transaction) and CertificateRepository::InsertWithAudit (one row).
#pragma once

#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/issuance_writer.h"

namespace keyline::store {

// Checks what the database would otherwise reject for the whole batch: serial (1 to 20 bytes,
// no leading zero byte, so each serial has one stored form), finite times, text that is UTF-8
// without NUL characters, a well-formed enrollment (ValidateEnrollment), a chainable audit event.
// InvalidArgument naming the field.
[[nodiscard]] absl::Status ValidateIssuanceWrite(const IssuanceWrite& write);

// In the caller's open transaction, for writes that passed ValidateIssuanceWrite: locks the
// challenges and devices of enrollment rows, decides every row (store/issuance_decisions.h),
// then, set-wise for the rows that pass, inserts the certificates (with their device serial),
// the new operators (an existing one is left alone), the enrollments (challenge used, device
// enrolled, request_id recorded) and one audit event per stored certificate, in order. Returns
// one status per write: OK, AlreadyExists or FailedPrecondition (nothing of that write was
// stored). Any other error (or exception: it throws libpqxx exceptions) leaves the transaction
// half-done: the caller must roll it back.
//
// The enrollment rows' statements are named prepared statements, look-ups by key with
// `= ANY ($1::...[])`. Planning them on every batch cost more than running them, but a plan cached
// while a table was small can be a sequential scan that stays once it is large
// (prepared_statement.h). So StoreIssuances must run on a connection set up by UseKeyLookupPlans
// (store/connection_pool.h).
[[nodiscard]] absl::StatusOr<std::vector<absl::Status>> StoreIssuances(
    pqxx::transaction_base& transaction, std::span<const IssuanceWrite* const> writes);

}  // namespace keyline::store
