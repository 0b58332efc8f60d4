#include "store/audit_appender.h"

#include <optional>
#include <pqxx/result>
#include <pqxx/stream_to>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/hex.h"
#include "store/audit_chain.h"
#include "store/prepared_statement.h"
#include "store/sha256.h"
#include "store/sql_text.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

const std::vector<std::string> kAuditColumns = {"seq",    "occurred_at", "actor",     "action",
                                                "target", "details",     "prev_hash", "row_hash"};

// Up to this many events go in with one INSERT ... SELECT FROM unnest(...); more by COPY.
constexpr size_t kMaxEventsPerInsert = 64;

}  // namespace

const std::string& AuditHeadLockSql() {
  // The clock is read once the lock is held: a holder that appended updated the head, and
  // PostgreSQL then evaluates this row again (clock included) after the wait, so occurred_at never
  // goes back along the chain.
  static const std::string* const kLockHead =
      new std::string("SELECT seq, encode(row_hash, 'hex'), " +
                      EpochMicrosSql("clock_timestamp()") + " FROM audit_head FOR UPDATE");
  return *kLockHead;
}

absl::StatusOr<AuditHead> AuditHeadFromColumns(const pqxx::field& seq,
                                               const pqxx::field& row_hash_hex,
                                               const pqxx::field& clock) {
  std::optional<std::string> hash = HexDecode(row_hash_hex.as<std::string>());
  if (!hash || hash->size() != kSha256Size) {
    return absl::InternalError("audit_head.row_hash is not a SHA-256 digest");
  }
  return AuditHead{seq.as<int64_t>(), *std::move(hash), FromEpochMicros(clock.as<int64_t>())};
}

absl::StatusOr<int64_t> AppendAuditEvents(pqxx::transaction_base& transaction,
                                          std::span<const AuditEvent* const> events,
                                          const AuditProgress& progress) {
  if (events.empty()) return 0;
  for (const AuditEvent* event : events) {
    if (absl::Status status = ValidateAuditEvent(*event); !status.ok()) return status;
  }
  const pqxx::result heads = ExecPrepared(transaction, "audit.lock_head", AuditHeadLockSql());
  if (heads.size() != 1) return absl::InternalError("audit_head: not exactly one row");
  absl::StatusOr<AuditHead> head = AuditHeadFromColumns(heads[0][0], heads[0][1], heads[0][2]);
  if (!head.ok()) return head.status();
  ComposedStatement statement;
  absl::StatusOr<int64_t> first_seq =
      AppendAuditEventsAfter(transaction, *head, events, statement, progress);
  if (first_seq.ok() && !statement.empty()) statement.Execute(transaction, "audit", "SELECT 1");
  return first_seq;
}

absl::StatusOr<int64_t> AppendAuditEventsAfter(pqxx::transaction_base& transaction,
                                               const AuditHead& head,
                                               std::span<const AuditEvent* const> events,
                                               ComposedStatement& statement,
                                               const AuditProgress& progress) {
  if (events.empty()) return 0;
  // No separate validation pass: CanonicalAuditEvent below fails as ValidateAuditEvent would.
  const int64_t head_seq = head.seq;
  std::string prev_hash = head.row_hash;
  const absl::Time occurred_at = head.now;
  const std::string occurred_at_text = FormatRfc3339Micros(occurred_at);

  const int64_t first_seq = head_seq + 1;
  // Hashes the events onto the chain in order, handing each row to `write`.
  const auto chain = [&](auto write) -> absl::StatusOr<int64_t> {
    int64_t seq = head_seq;
    for (const AuditEvent* event : events) {
      ++seq;
      absl::StatusOr<std::string> canonical = CanonicalAuditEvent(seq, occurred_at, *event);
      if (!canonical.ok()) return canonical.status();
      std::string row_hash = AuditRowHash(prev_hash, *canonical);
      write(seq, *event, prev_hash, row_hash);
      prev_hash = std::move(row_hash);
      if (progress && (seq - head_seq) % kAuditProgressStep == 0) {
        progress(static_cast<size_t>(seq - head_seq));
      }
    }
    return seq;
  };

  if (events.size() <= kMaxEventsPerInsert) {
    // A few events (an issuance batch, one admin action): the rows and the new head as clauses of
    // one statement, where COPY and the head's UPDATE take three round trips and COPY's setup
    // costs more than its rows.
    std::vector<std::string> seqs, details, prev_hashes, row_hashes;
    std::vector<std::string_view> actors, actions, targets;
    absl::StatusOr<int64_t> last = chain([&](int64_t seq, const AuditEvent& event,
                                             std::string_view prev, std::string_view row_hash) {
      seqs.push_back(absl::StrCat(seq));
      actors.push_back(event.actor);
      actions.push_back(event.action);
      targets.push_back(event.target);
      details.push_back(event.details.dump());
      prev_hashes.emplace_back(prev);
      row_hashes.emplace_back(row_hash);
    });
    if (!last.ok()) return last.status();
    statement.With("audit_appended",
                   "INSERT INTO audit_log "
                   "(seq, occurred_at, actor, action, target, details, prev_hash, row_hash) "
                   "SELECT e.seq, $2::timestamptz, e.actor, e.action, e.target, e.details::jsonb, "
                   "e.prev_hash, e.row_hash FROM unnest($1::bigint[], $3::text[], $4::text[], "
                   "$5::text[], $6::text[], $7::bytea[], $8::bytea[]) "
                   "AS e (seq, actor, action, target, details, prev_hash, row_hash)",
                   {TextArrayParam(seqs), occurred_at_text, TextArrayParam(actors),
                    TextArrayParam(actions), TextArrayParam(targets), TextArrayParam(details),
                    ByteaArrayParam(prev_hashes), ByteaArrayParam(row_hashes)});
    statement.With("audit_head_moved", "UPDATE audit_head SET seq = $1, row_hash = $2::bytea",
                   {absl::StrCat(*last), ByteaParam(prev_hash)});
    return first_seq;
  }

  // COPY rather than INSERT for many: audit rows cannot conflict (seq is ours under the lock,
  // row_hash is a fresh digest), and COPY costs the server about half of a multi-row INSERT per
  // row.
  pqxx::stream_to copy(transaction, "audit_log", kAuditColumns);
  absl::StatusOr<int64_t> last = chain(
      [&](int64_t seq, const AuditEvent& event, std::string_view prev, std::string_view row_hash) {
        copy << std::make_tuple(seq, occurred_at_text, event.actor, event.action, event.target,
                                event.details.dump(), ByteaParam(prev), ByteaParam(row_hash));
      });
  copy.complete();
  if (!last.ok()) return last.status();
  ExecPrepared(transaction, "audit.update_head",
               "UPDATE audit_head SET seq = $1, row_hash = $2::bytea", *last,
               ByteaParam(prev_hash));
  return first_seq;
}

}  // namespace keyline::store
