#include "store/audit_chain.h"

#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "store/sha256.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

absl::Status CheckText(std::string_view text, std::string_view field) {
  if (text.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("audit event ", AsAbsl(field), ": contains a NUL character"));
  }
  return absl::OkStatus();
}

absl::Status CheckDetailsValue(const nlohmann::json& value, const std::string& path) {
  switch (value.type()) {
    case nlohmann::json::value_t::number_float:
      return absl::InvalidArgumentError(absl::StrCat(
          "audit event ", path, ": floating-point numbers are not allowed (not canonical)"));
    case nlohmann::json::value_t::string:
      return CheckText(value.get_ref<const std::string&>(), path);
    case nlohmann::json::value_t::object:
      for (const auto& [key, member] : value.items()) {
        const std::string member_path = absl::StrCat(path, ".", key);
        if (absl::Status status = CheckText(key, member_path); !status.ok()) return status;
        if (absl::Status status = CheckDetailsValue(member, member_path); !status.ok()) {
          return status;
        }
      }
      return absl::OkStatus();
    case nlohmann::json::value_t::array:
      for (size_t i = 0; i < value.size(); ++i) {
        if (absl::Status status = CheckDetailsValue(value[i], absl::StrCat(path, "[", i, "]"));
            !status.ok()) {
          return status;
        }
      }
      return absl::OkStatus();
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded:
      return absl::InvalidArgumentError(
          absl::StrCat("audit event ", path, ": not representable in JSON"));
    default:  // null, boolean, integers
      return absl::OkStatus();
  }
}

// Compact, keys sorted (nlohmann::json's objects are ordered maps), UTF-8 as is. Throws
// nlohmann::json::type_error on invalid UTF-8.
std::string Dump(const nlohmann::json& value) { return value.dump(); }

}  // namespace

std::string GenesisAuditHash() { return std::string(kSha256Size, '\0'); }

absl::Status ValidateAuditEvent(const AuditEvent& event) {
  if (absl::Status status = CheckText(event.actor, "actor"); !status.ok()) return status;
  if (absl::Status status = CheckText(event.action, "action"); !status.ok()) return status;
  if (absl::Status status = CheckText(event.target, "target"); !status.ok()) return status;
  if (!event.details.is_object()) {
    return absl::InvalidArgumentError("audit event details: must be a JSON object");
  }
  if (absl::Status status = CheckDetailsValue(event.details, "details"); !status.ok()) {
    return status;
  }
  // The one check left is UTF-8 validity, which only serializing finds.
  try {
    (void)Dump(nlohmann::json{{"actor", event.actor},
                              {"action", event.action},
                              {"target", event.target},
                              {"details", event.details}});
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("audit event: text is not valid UTF-8");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> CanonicalAuditEvent(int64_t seq, absl::Time occurred_at,
                                                const AuditEvent& event) {
  if (absl::Status status = ValidateAuditEvent(event); !status.ok()) return status;
  const nlohmann::json canonical = {
      {"seq", seq},
      {"occurred_at", FormatRfc3339Micros(TruncateToMicros(occurred_at))},
      {"actor", event.actor},
      {"action", event.action},
      {"target", event.target},
      {"details", event.details},
  };
  return Dump(canonical);  // cannot throw: ValidateAuditEvent serialized the same strings
}

std::string AuditRowHash(std::string_view prev_hash, std::string_view canonical) {
  return Sha256(prev_hash, canonical);
}

absl::Status VerifyAuditChain(std::span<const AuditRow> rows, int64_t previous_seq,
                              std::string_view previous_hash) {
  std::string expected_prev =
      previous_hash.empty() ? GenesisAuditHash() : std::string(previous_hash);
  int64_t expected_seq = previous_seq + 1;
  for (const AuditRow& row : rows) {
    if (row.seq != expected_seq) {
      return absl::DataLossError(absl::StrCat("audit row ", expected_seq, " is missing (found ",
                                              row.seq, " in its place)"));
    }
    if (row.prev_hash != expected_prev) {
      return absl::DataLossError(absl::StrCat(
          "audit row ", row.seq, ": prev_hash does not match the row_hash of row ", row.seq - 1));
    }
    const absl::StatusOr<std::string> canonical =
        CanonicalAuditEvent(row.seq, row.occurred_at, row.event);
    if (!canonical.ok()) {
      return absl::DataLossError(absl::StrCat("audit row ", row.seq, ": cannot be canonicalized: ",
                                              canonical.status().message()));
    }
    if (AuditRowHash(row.prev_hash, *canonical) != row.row_hash) {
      return absl::DataLossError(
          absl::StrCat("audit row ", row.seq, ": row_hash does not match its contents"));
    }
    expected_prev = row.row_hash;
    ++expected_seq;
  }
  return absl::OkStatus();
}

}  // namespace keyline::store
