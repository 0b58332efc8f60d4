#include "store/audit_checkpoint_message.h"

namespace keyline::store {
namespace {

void AppendBigEndian(std::string& out, int64_t signed_value) {
  const auto value = static_cast<uint64_t>(signed_value);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

std::string Message(std::string_view label, int64_t seq, std::string_view row_hash) {
  std::string message(label);
  message.push_back('\0');
  AppendBigEndian(message, seq);
  message.append(row_hash);
  return message;
}

}  // namespace

std::string AuditCheckpointMessage(int64_t seq, std::string_view row_hash) {
  return Message("keyline-audit-checkpoint-v1", seq, row_hash);
}

std::string AuditCheckpointMessageV2(int64_t seq, std::string_view row_hash, absl::Time signed_at) {
  std::string message = Message("keyline-audit-checkpoint-v2", seq, row_hash);
  AppendBigEndian(message, absl::ToUnixMicros(signed_at));
  return message;
}

}  // namespace keyline::store
