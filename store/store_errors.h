// The one place where libpqxx exceptions become absl::Status. Every store/ entry point catches
// everything and calls MapCurrentException, so no exception leaves the module.
//
// Codes: connection failures -> Unavailable; unique violation -> AlreadyExists; foreign-key,
// check and not-null violations -> FailedPrecondition; insufficient privilege (including the
// audit log's append-only trigger) -> PermissionDenied; serialization failure and deadlock ->
// Aborted; invalid data -> InvalidArgument; connection lost during COMMIT -> Unknown (the
// transaction may or may not have committed); anything else -> Internal.
//
// Messages name the operation, the server's primary message when it only names schema objects
// (constraint, table, column) and the SQLSTATE. They never carry the server's DETAIL lines, which
// echo row values ("Key (serial)=(...)", "Failing row contains (...)"), nor the text of
// data errors, which can quote input.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace keyline::store {

// Maps the exception being handled; call it only inside a catch block (typically catch (...)).
// `context` says what was being done, e.g. "insert certificate authority".
absl::Status MapCurrentException(std::string_view context);

}  // namespace keyline::store
