#include "store/audit_checkpoint_message.h"

namespace keyline::store {

std::string AuditCheckpointMessage(int64_t seq, std::string_view row_hash) {
  std::string message = "keyline-audit-checkpoint-v1";
  message.push_back('\0');
  const auto value = static_cast<uint64_t>(seq);
  for (int shift = 56; shift >= 0; shift -= 8) {
    message.push_back(static_cast<char>((value >> shift) & 0xff));
  }
  message.append(row_hash);
  return message;
}

}  // namespace keyline::store
