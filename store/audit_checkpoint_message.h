// The bytes an audit checkpoint signature covers, shared by the signer (keyline-server) and the
// verifier (keylinectl audit verify):
//   "keyline-audit-checkpoint-v1" 0x00 || seq (8 octets, big-endian) || row_hash (32 octets)
// signed with ECDSA over SHA-256 by the HSM audit key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace keyline::store {

std::string AuditCheckpointMessage(int64_t seq, std::string_view row_hash);

}  // namespace keyline::store
