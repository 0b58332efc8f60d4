#include "store/certificate_status_feed.h"

#include <future>
#include <pqxx/binarystring>
#include <pqxx/nontransaction>
#include <pqxx/notification>
#include <pqxx/result>
#include <pqxx/transaction>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "store/prepared_statement.h"
#include "store/store_errors.h"
#include "store/timestamps.h"

namespace keyline::store {
namespace {

constexpr int kChunkRows = 50'000;

// The status columns, in RowFrom's order, of certificates named `table`.
std::string StatusColumns(std::string_view table) {
  const std::string prefix = absl::StrCat(AsAbsl(table), ".");
  return absl::StrCat(prefix, "issuer_id, ", prefix, "serial, ", prefix, "status = 'revoked', ",
                      EpochMicrosSql(prefix + "revoked_at"), ", ", prefix, "revocation_reason, ",
                      EpochMicrosSql(prefix + "invalidity_date"));
}

std::string SelectStatuses() {
  return absl::StrCat("SELECT ", StatusColumns("certificates"), " FROM certificates");
}

// The status columns start at row[first].
CertificateStatusRow RowFrom(const pqxx::row& row, int first = 0) {
  CertificateStatusRow status;
  status.issuer_id = row[first].as<int32_t>();
  status.serial = pqxx::binarystring(row[first + 1]).str();
  status.revoked = row[first + 2].as<bool>();
  if (status.revoked) {
    status.revoked_at = FromEpochMicros(row[first + 3].as<int64_t>());
    status.reason = row[first + 4].is_null() ? 0 : row[first + 4].as<int>();
    if (!row[first + 5].is_null()) {
      status.invalidity_date = FromEpochMicros(row[first + 5].as<int64_t>());
    }
  }
  return status;
}

// Runs `select` through a cursor in a REPEATABLE READ snapshot and returns the snapshot's now().
absl::StatusOr<absl::Time> ReadThroughCursor(
    ConnectionPool& pool, const std::string& select,
    absl::FunctionRef<void(const CertificateStatusRow&)> row_callback) {
  absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(lease->connection());
    // Every row of the cursor is read, so it must be planned for all of them: the default
    // cursor_tuple_fraction (0.1) favours plans that start fast, and a change read (a few rows
    // since a moment ago) became a sequential scan of the whole table, 8-13 ms a read once
    // 50,000 certificates were stored.
    tx.exec0("SET LOCAL cursor_tuple_fraction = 1.0");
    const absl::Time started = FromEpochMicros(
        tx.exec1(absl::StrCat("SELECT ", EpochMicrosSql("now()")))[0].as<int64_t>());
    tx.exec(absl::StrCat("DECLARE keyline_status_cursor NO SCROLL CURSOR FOR ", select));
    // The next chunk is fetched on another thread while this one hands the current chunk to the
    // callback, so that PostgreSQL's side of a full read (a million rows: about as long as ours)
    // overlaps ours instead of adding to it. Only that thread uses the connection until its
    // chunk is taken; a pqxx::result is read here without the connection. `next` is declared
    // after `tx`, so an exception waits for a fetch in flight before the transaction ends.
    const std::string fetch =
        absl::StrCat("FETCH FORWARD ", kChunkRows, " FROM keyline_status_cursor");
    const auto fetch_next = [&tx, &fetch] {
      return std::async(std::launch::async, [&tx, &fetch] { return tx.exec(fetch); });
    };
    std::future<pqxx::result> next = fetch_next();
    for (;;) {
      const pqxx::result chunk = next.get();
      const bool last = chunk.size() < static_cast<size_t>(kChunkRows);
      if (!last) next = fetch_next();
      for (const pqxx::row& row : chunk) row_callback(RowFrom(row));
      if (last) break;
    }
    tx.commit();
    return started;
  } catch (...) {
    lease->MarkBroken();
    return MapCurrentException("read certificate statuses");
  }
}

}  // namespace

const std::string& NotifyCertificatesChangedCall() {
  static const std::string* const kCall = new std::string(absl::StrCat(
      "pg_notify('", kCertificatesChangedChannel, "', ", EpochMicrosSql("now()"), "::text)"));
  return *kCall;
}

void NotifyCertificatesChanged(pqxx::transaction_base& transaction) {
  static const std::string* const kNotify =
      new std::string(absl::StrCat("SELECT ", NotifyCertificatesChangedCall()));
  ExecPrepared(transaction, "certificates.notify_changed", *kNotify);
}

absl::StatusOr<absl::Time> ReadAllStatuses(
    ConnectionPool& pool, absl::FunctionRef<void(const CertificateStatusRow&)> row_callback) {
  return ReadThroughCursor(pool, SelectStatuses(), row_callback);
}

absl::StatusOr<absl::Time> ReadRevokedStatuses(
    ConnectionPool& pool, absl::FunctionRef<void(const CertificateStatusRow&)> row_callback) {
  // The partial index certificates_revoked_at holds exactly these rows.
  return ReadThroughCursor(pool, SelectStatuses() + " WHERE revoked_at IS NOT NULL", row_callback);
}

std::string ChangedStatusesSql(absl::Time since) {
  // The statement's snapshot and its now() are taken together, as ReadThroughCursor's transaction
  // takes them. The LEFT JOIN returns now() even when nothing changed (one row of NULL statuses).
  // The `since` literal, not a parameter, lets each read be planned for its own range (the two
  // indexes, not a scan of the table).
  const std::string since_sql =
      absl::StrCat("to_timestamp(", absl::ToUnixMicros(since), "::double precision / 1e6)");
  return absl::StrCat(
      "SELECT ", EpochMicrosSql("now()"), ", ", StatusColumns("c"),
      " FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT * FROM certificates WHERE issued_at >= ",
      since_sql, " OR revoked_at >= ", since_sql, ") AS c ON true");
}

absl::StatusOr<absl::Time> ReadChangedStatuses(
    ConnectionPool& pool, absl::Time since,
    absl::FunctionRef<void(const CertificateStatusRow&)> row_callback) {
  // A change read runs under load many times a second and finds a few rows, so it is one
  // statement, not ReadThroughCursor's transaction of six.
  absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    pqxx::nontransaction read(lease->connection());
    const pqxx::result rows = read.exec(ChangedStatusesSql(since));
    for (const pqxx::row& row : rows) {
      if (!row[1].is_null()) row_callback(RowFrom(row, 1));
    }
    return FromEpochMicros(rows.at(0)[0].as<int64_t>());
  } catch (...) {
    lease->MarkBroken();
    return MapCurrentException("read changed certificate statuses");
  }
}

class CertificateChangeListener::Receiver : public pqxx::notification_receiver {
 public:
  explicit Receiver(pqxx::connection_base& connection)
      : pqxx::notification_receiver(connection, kCertificatesChangedChannel) {}

  void operator()(const std::string& payload, int) override {
    int64_t micros = 0;
    // A payload we cannot read still means "something changed": go back a minute.
    const absl::Time at = absl::SimpleAtoi(payload, &micros) ? FromEpochMicros(micros)
                                                             : absl::Now() - absl::Minutes(1);
    if (!earliest || at < *earliest) earliest = at;
  }

  std::optional<absl::Time> earliest;
};

absl::StatusOr<std::unique_ptr<CertificateChangeListener>> CertificateChangeListener::Connect(
    const std::string& database_url) {
  absl::StatusOr<std::unique_ptr<pqxx::connection>> connection = OpenConnection(database_url);
  if (!connection.ok()) return connection.status();
  std::unique_ptr<CertificateChangeListener> listener(new CertificateChangeListener());
  listener->connection_ = *std::move(connection);
  try {
    listener->receiver_ = std::make_unique<Receiver>(*listener->connection_);
    // The LISTEN is sent lazily by libpqxx; make sure it is active before the caller's full read,
    // so nothing committed after that read is missed.
    pqxx::nontransaction(*listener->connection_).exec("SELECT 1");
  } catch (...) {
    return MapCurrentException("listen for certificate changes");
  }
  return listener;
}

CertificateChangeListener::~CertificateChangeListener() {
  receiver_.reset();  // unregisters from the connection before it closes
}

absl::StatusOr<std::optional<absl::Time>> CertificateChangeListener::Wait(absl::Duration timeout) {
  receiver_->earliest.reset();
  try {
    const int64_t micros = std::max<int64_t>(0, absl::ToInt64Microseconds(timeout));
    connection_->await_notification(micros / 1'000'000, micros % 1'000'000);
    connection_->get_notifs();  // anything that arrived together
    if (!connection_->is_open()) return absl::UnavailableError("status listener: connection lost");
  } catch (...) {
    return MapCurrentException("wait for certificate changes");
  }
  return receiver_->earliest;
}

}  // namespace keyline::store
