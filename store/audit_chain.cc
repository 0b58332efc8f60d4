#include "store/audit_chain.h"

#include <nlohmann/json.hpp>
#include <string>

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

// Walks `value`; `path` is the JSON path of `value` ("details.a[2]"), extended and restored on
// the way down so that only an error builds a message.
absl::Status CheckDetailsValue(const nlohmann::json& value, std::string& path) {
  switch (value.type()) {
    case nlohmann::json::value_t::number_float:
      return absl::InvalidArgumentError(absl::StrCat(
          "audit event ", path, ": floating-point numbers are not allowed (not canonical)"));
    case nlohmann::json::value_t::string:
      return CheckText(value.get_ref<const std::string&>(), path);
    case nlohmann::json::value_t::object:
      for (auto it = value.begin(); it != value.end(); ++it) {
        const size_t length = path.size();
        absl::StrAppend(&path, ".", it.key());
        absl::Status status = CheckText(it.key(), path);
        if (status.ok()) status = CheckDetailsValue(it.value(), path);
        if (!status.ok()) return status;
        path.resize(length);
      }
      return absl::OkStatus();
    case nlohmann::json::value_t::array:
      for (size_t i = 0; i < value.size(); ++i) {
        const size_t length = path.size();
        absl::StrAppend(&path, "[", i, "]");
        if (absl::Status status = CheckDetailsValue(value[i], path); !status.ok()) return status;
        path.resize(length);
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

absl::Status CheckEvent(const AuditEvent& event) {
  if (absl::Status status = CheckText(event.actor, "actor"); !status.ok()) return status;
  if (absl::Status status = CheckText(event.action, "action"); !status.ok()) return status;
  if (absl::Status status = CheckText(event.target, "target"); !status.ok()) return status;
  if (!event.details.is_object()) {
    return absl::InvalidArgumentError("audit event details: must be a JSON object");
  }
  std::string path = "details";
  return CheckDetailsValue(event.details, path);
}

// nlohmann::json's compact serialization of a string (quoted, escaped, UTF-8 kept as is).
// Throws nlohmann::json::type_error on invalid UTF-8.
void AppendJsonString(std::string& out, const std::string& text) {
  out += nlohmann::json(text).dump();
}

}  // namespace

std::string GenesisAuditHash() { return std::string(kSha256Size, '\0'); }

absl::Status ValidateAuditEvent(const AuditEvent& event) {
  return CanonicalAuditEvent(0, absl::UnixEpoch(), event).status();
}

absl::StatusOr<std::string> CanonicalAuditEvent(int64_t seq, absl::Time occurred_at,
                                                const AuditEvent& event) {
  if (absl::Status status = CheckEvent(event); !status.ok()) return status;
  // Exactly what nlohmann::json::dump() gives for the object with these members (its objects
  // are sorted maps), written member by member to spare building the object per event.
  std::string canonical;
  canonical.reserve(160 + event.actor.size() + event.action.size() + event.target.size());
  try {
    canonical += R"({"action":)";
    AppendJsonString(canonical, event.action);
    canonical += R"(,"actor":)";
    AppendJsonString(canonical, event.actor);
    canonical += R"(,"details":)";
    canonical += event.details.dump();
    canonical += R"(,"occurred_at":")";
    canonical += FormatRfc3339Micros(TruncateToMicros(occurred_at));
    absl::StrAppend(&canonical, R"(","seq":)", seq, R"(,"target":)");
    AppendJsonString(canonical, event.target);
    canonical += '}';
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("audit event: text is not valid UTF-8");
  }
  return canonical;
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
      return absl::DataLossError(absl::StrCat(
          "audit row ", row.seq, ": cannot be canonicalized: ", canonical.status().message()));
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
