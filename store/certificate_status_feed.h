// What OCSP and CRLs need to know about every certificate (issuer, serial, revocation), read from
// PostgreSQL in full at startup and incrementally afterwards, and the notification that tells
// every replica to read again.
//
// Every transaction that stores or revokes certificates calls NotifyCertificatesChanged before it
// commits; PostgreSQL delivers the notification on commit, carrying the transaction's now() (the
// issued_at / revoked_at its rows got). A listener then reads the rows changed since the earliest
// such time (ReadChangedStatuses), so a long transaction whose rows carry an old timestamp is still
// seen. A lost notification (listener reconnecting) is covered by the caller's periodic resync.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace keyline::store {

inline constexpr char kCertificatesChangedChannel[] = "keyline_certificates";

struct CertificateStatusRow {
  int32_t issuer_id = 0;
  std::string serial;  // raw big-endian magnitude
  bool revoked = false;
  absl::Time revoked_at;                      // when revoked
  int reason = 0;                             // CRLReason code, when revoked
  std::optional<absl::Time> invalidity_date;  // when revoked and known
};

// Inside a transaction that inserted or revoked certificates. Throws libpqxx exceptions (call it
// inside ConnectionPool::RunTransaction).
void NotifyCertificatesChanged(pqxx::transaction_base& transaction);
// The notification as an SQL expression, for a statement that changes certificates and notifies
// in the same round trip (the issuance writer's, store/issuance_batch.cc).
const std::string& NotifyCertificatesChangedCall();

// Every certificate, streamed through a cursor in chunks so a million rows never sit in memory at
// once; the next chunk is fetched (on a helper thread) while row_callback, on the caller's
// thread, works through the current one. Returns the database time the read's snapshot started
// (the next incremental read starts from there).
[[nodiscard]] absl::StatusOr<absl::Time> ReadAllStatuses(
    ConnectionPool& pool, absl::FunctionRef<void(const CertificateStatusRow&)> row_callback);

// Every revoked certificate, read as ReadAllStatuses reads them all; returns the snapshot's
// database time. For a replica that starts publishing CRLs (server/crl_publisher.h).
[[nodiscard]] absl::StatusOr<absl::Time> ReadRevokedStatuses(
    ConnectionPool& pool, absl::FunctionRef<void(const CertificateStatusRow&)> row_callback);

// Certificates issued or revoked at or after `since`; returns the snapshot's database time.
// One statement (ChangedStatusesSql), for reads of a few rows many times a second.
[[nodiscard]] absl::StatusOr<absl::Time> ReadChangedStatuses(
    ConnectionPool& pool, absl::Time since,
    absl::FunctionRef<void(const CertificateStatusRow&)> row_callback);
// That statement, for tests of its plan.
std::string ChangedStatusesSql(absl::Time since);

// A dedicated connection LISTENing on kCertificatesChangedChannel. Not thread-safe: one thread
// owns it.
class CertificateChangeListener {
 public:
  // Unavailable when the database cannot be reached.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CertificateChangeListener>> Connect(
      const std::string& database_url);
  ~CertificateChangeListener();

  // Waits up to `timeout` for notifications; returns the earliest transaction time they carried
  // (nullopt on timeout). Unavailable when the connection broke (the caller reconnects and
  // reloads in full, since notifications may have been missed).
  [[nodiscard]] absl::StatusOr<std::optional<absl::Time>> Wait(absl::Duration timeout);

 private:
  class Receiver;
  CertificateChangeListener() = default;
  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<Receiver> receiver_;
};

}  // namespace keyline::store
