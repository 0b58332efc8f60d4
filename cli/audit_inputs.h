// What keyline-server sends for `keylinectl audit verify`, turned into the verifier's inputs
// (cli/audit_verifier.h). Nothing here trusts the server: the rows are recomputed, and the audit
// certificate must chain to the root the admin gave with --ca.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "cli/audit_verifier.h"
#include "common/openssl_ptr.h"
#include "keyline/v1/admin.pb.h"
#include "store/audit_chain.h"

namespace keyline::cli {

// The stored row as store/audit_chain.h hashes it: details_json parsed, occurred_at from the
// timestamp to the microsecond. DataLoss "row N: ..." when details_json is not a JSON document,
// or when occurred_at_text (the text the row hash covers) is not store::FormatRfc3339Micros of
// occurred_at: the server's two renderings of the time must agree.
[[nodiscard]] absl::StatusOr<store::AuditRow> AuditRowFromRecord(
    const keyline::v1::AuditRecord& record);

SignedCheckpoint CheckpointFromProto(const keyline::v1::AuditCheckpoint& checkpoint);

// The public key of the audit checkpoint signer, once its certificate verifies up to one of the
// certificates in `roots_pem` (the --ca file) and carries Keyline's audit-signing extended key
// usage. FailedPrecondition "audit certificate: ..." otherwise.
[[nodiscard]] absl::StatusOr<EvpPkeyPtr> AuditSigningKey(std::string_view certificate_der,
                                                         std::string_view roots_pem);

}  // namespace keyline::cli
