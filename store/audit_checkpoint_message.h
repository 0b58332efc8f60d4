// The bytes an audit checkpoint signature covers, shared by the signer (keyline-server) and the
// verifier (keylinectl audit verify):
//   v1: "keyline-audit-checkpoint-v1" 0x00 || seq (8 octets) || row_hash (32 octets)
//   v2: "keyline-audit-checkpoint-v2" 0x00 || seq (8 octets) || row_hash (32 octets)
//       || signed_at (8 octets: microseconds since the Unix epoch, UTC)
// Integers big-endian, signed as two's complement. Signed with ECDSA over SHA-256 by the HSM audit
// key. Servers sign v2 since schema version 10; v1 checkpoints signed before stay valid.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace keyline::store {

std::string AuditCheckpointMessage(int64_t seq, std::string_view row_hash);
// `signed_at` is taken in whole microseconds (what PostgreSQL stores).
std::string AuditCheckpointMessageV2(int64_t seq, std::string_view row_hash, absl::Time signed_at);

}  // namespace keyline::store
