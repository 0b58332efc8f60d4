// Keeps this replica's view of certificate status (the OCSP status index, the OCSP cache and the
// CRL builders) in step with PostgreSQL: a full read at start, then on every change notification
// the rows changed since the notifying transaction began (store/certificate_status_feed.h), and
// every resync_interval the rows changed recently even without a notification. A lost listener
// connection is reopened and followed by a full read. Revocations committed on any replica reach
// OCSP answers here within about one notification round trip plus one signature.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/certificate_status_index.h"
#include "store/certificate_status_feed.h"
#include "store/connection_pool.h"

namespace keyline::server {

class StatusSync {
 public:
  // Called on the sync thread for every row that changed the index (kIssued or kRevoked).
  // `initial` is true for rows of the first full read only, before anything can have been
  // answered or cached from the index; a full read after a lost listener reports as changes.
  using ChangeCallback = std::function<void(const store::CertificateStatusRow& row,
                                            CertificateStatusIndex::Change change, bool initial)>;

  // Listens, reads everything once (before returning, so a started server answers from complete
  // data), then follows changes on its own thread.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<StatusSync>> Start(
      store::ConnectionPool& pool, CertificateStatusIndex& index, ChangeCallback on_change,
      absl::Duration resync_interval);
  ~StatusSync();  // stops the thread

  // Whether this replica's view is known to be current at `now`: the sync confirmed it (a read,
  // or a quiet wait on a live listener after no failed read) within the last
  // max(3 x resync_interval, 3 s). False while PostgreSQL is unreachable: the index, the OCSP
  // answers and the CRLs may then miss revocations made through other replicas, so /readyz says
  // so and a load balancer sends relying parties elsewhere. Any thread.
  bool InStep(absl::Time now) const;

 private:
  StatusSync(store::ConnectionPool& pool, CertificateStatusIndex& index, ChangeCallback on_change,
             absl::Duration resync_interval)
      : pool_(pool), index_(index), on_change_(std::move(on_change)),
        resync_interval_(resync_interval) {}
  absl::Status ReadAll(bool initial);
  absl::Status ReadSince(absl::Time since);
  void Run();
  void Confirm() { confirmed_at_ = absl::ToUnixNanos(absl::Now()); }

  store::ConnectionPool& pool_;
  CertificateStatusIndex& index_;
  const ChangeCallback on_change_;
  const absl::Duration resync_interval_;
  std::unique_ptr<store::CertificateChangeListener> listener_;
  absl::Time last_snapshot_;  // the database time the latest read started; sync thread only
  absl::Time last_read_ = absl::InfinitePast();  // this clock's, for kMinReadGap; same thread
  std::atomic<int64_t> confirmed_at_{0};         // Unix ns of the last confirmation (see InStep)
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace keyline::server
