#include "store/audit_appender.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/result>
#include <pqxx/prepared_statement>

#include "absl/strings/str_cat.h"
#include "common/hex.h"
#include "store/audit_chain.h"
#include "store/sha256.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

// A statement takes at most 65535 parameters; 8 per row.
constexpr size_t kRowsPerInsert = 4096;

const std::vector<std::string_view> kAuditColumnCasts = {
    "::bigint", "::timestamptz", "::text", "::text", "::text", "::jsonb", "::bytea", "::bytea"};

}  // namespace

absl::StatusOr<int64_t> AppendAuditEvents(pqxx::transaction_base& transaction,
                                          std::span<const AuditEvent* const> events) {
  if (events.empty()) return 0;
  for (const AuditEvent* event : events) {
    if (absl::Status status = ValidateAuditEvent(*event); !status.ok()) return status;
  }

  const pqxx::row head =
      transaction.exec1("SELECT seq, encode(row_hash, 'hex') FROM audit_head FOR UPDATE");
  const int64_t head_seq = head[0].as<int64_t>();
  std::optional<std::string> prev_hash = HexDecode(head[1].as<std::string>());
  if (!prev_hash || prev_hash->size() != kSha256Size) {
    return absl::InternalError("audit_head.row_hash is not a SHA-256 digest");
  }
  const absl::Time occurred_at = FromEpochMicros(
      transaction.exec1("SELECT " + EpochMicrosSql("clock_timestamp()"))[0].as<int64_t>());
  const std::string occurred_at_text = FormatRfc3339Micros(occurred_at);

  const int64_t first_seq = head_seq + 1;
  int64_t seq = head_seq;
  for (size_t start = 0; start < events.size(); start += kRowsPerInsert) {
    const size_t count = std::min(kRowsPerInsert, events.size() - start);
    SqlParams params;
        for (const AuditEvent* event : events.subspan(start, count)) {
      ++seq;
      absl::StatusOr<std::string> canonical = CanonicalAuditEvent(seq, occurred_at, *event);
      if (!canonical.ok()) return canonical.status();
      std::string row_hash = AuditRowHash(*prev_hash, *canonical);
      params.Add(absl::StrCat(seq));
      params.Add(occurred_at_text);
      params.Add(event->actor);
      params.Add(event->action);
      params.Add(event->target);
      params.Add(event->details.dump());
      params.Add(ByteaParam(*prev_hash));
      params.Add(ByteaParam(row_hash));
      prev_hash = std::move(row_hash);
    }
    transaction.exec_params(
        absl::StrCat("INSERT INTO audit_log (seq, occurred_at, actor, action, target, details, "
                     "prev_hash, row_hash) VALUES ",
                     ValuesPlaceholders(count, kAuditColumnCasts)),
        pqxx::prepare::make_dynamic_params(params.Pointers()));
  }
  transaction.exec_params("UPDATE audit_head SET seq = $1, row_hash = $2::bytea", seq,
                          ByteaParam(*prev_hash));
  return first_seq;
}

}  // namespace keyline::store
