#include "server/status_sync.h"

#include <algorithm>

#include "common/logging.h"
#include "common/status_macros.h"

namespace keyline::server {
namespace {

// Rows carry their transaction's start time, so a transaction that committed after our last read
// began may hold rows older than that read: periodic resyncs look back this far (transactions
// that store or revoke certificates last milliseconds; a lost notification is what this covers).
constexpr absl::Duration kLookBack = absl::Seconds(10);
constexpr absl::Duration kWaitSlice = absl::Milliseconds(250);
// At most one change read per this long: under an issuance load every group commit notifies (a
// few hundred a second), and each read costs PostgreSQL and this server a statement. A
// notification after a quiet spell is read at once; those of a burst wait for the gap and are
// read together, so a revocation reaches OCSP within milliseconds, and so does a new
// certificate (whose status is "unknown" until then: a device that enrolled may be checked at
// once; 100 ms made ca_rotation_test's immediate OCSP check fail). During the gap the thread
// sleeps rather than waking for each notification (a wake-up per group commit cost ~4% of the
// server's CPU under enrollment load); the notifications wait in the socket meanwhile.
constexpr absl::Duration kMinReadGap = absl::Milliseconds(20);

}  // namespace

absl::StatusOr<std::unique_ptr<StatusSync>> StatusSync::Start(store::ConnectionPool& pool,
                                                              CertificateStatusIndex& index,
                                                              ChangeCallback on_change,
                                                              absl::Duration resync_interval) {
  std::unique_ptr<StatusSync> sync(
      new StatusSync(pool, index, std::move(on_change), resync_interval));
  KEYLINE_ASSIGN_OR_RETURN(sync->listener_,
                           store::CertificateChangeListener::Connect(pool.database_url()));
  KEYLINE_RETURN_IF_ERROR(sync->ReadAll(/*initial=*/true));
  sync->Confirm();
  sync->thread_ = std::thread([raw = sync.get()] { raw->Run(); });
  return sync;
}

bool StatusSync::InStep(absl::Time now) const {
  const absl::Duration window = std::max(3 * resync_interval_, absl::Seconds(3));
  return now - absl::FromUnixNanos(confirmed_at_.load()) <= window;
}

StatusSync::~StatusSync() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

absl::Status StatusSync::ReadAll(bool initial) {
  const absl::Time started = absl::Now();
  size_t rows = 0;
  KEYLINE_ASSIGN_OR_RETURN(last_snapshot_,
                           store::ReadAllStatuses(pool_, [&](const store::CertificateStatusRow& row) {
                             ++rows;
                             const auto change = index_.Apply(row);
                             if (change != CertificateStatusIndex::Change::kNone) {
                               on_change_(row, change, initial);
                             }
                           }));
  LogEvent(spdlog::level::info, "status.loaded",
           {{"certificates", rows}, {"ms", absl::ToInt64Milliseconds(absl::Now() - started)}});
  return absl::OkStatus();
}

absl::Status StatusSync::ReadSince(absl::Time since) {
  KEYLINE_ASSIGN_OR_RETURN(
      const absl::Time snapshot,
      store::ReadChangedStatuses(pool_, since, [&](const store::CertificateStatusRow& row) {
        const auto change = index_.Apply(row);
        if (change != CertificateStatusIndex::Change::kNone) on_change_(row, change, false);
      }));
  last_snapshot_ = std::max(last_snapshot_, snapshot);
  return absl::OkStatus();
}

void StatusSync::Run() {
  absl::Time next_resync = absl::Now() + resync_interval_;
  bool reload = false;
  // A read failed and none has succeeded since: a quiet listener then proves nothing.
  bool read_failed = false;
  while (!stop_) {
    absl::Status status;
    bool read = false;  // this round read rows (or tried to)
    if (reload || listener_ == nullptr) {
      listener_.reset();
      absl::StatusOr<std::unique_ptr<store::CertificateChangeListener>> listener =
          store::CertificateChangeListener::Connect(pool_.database_url());
      status = listener.status();
      if (listener.ok()) {
        listener_ = *std::move(listener);
        // Notifications sent while the listener was down are lost: whatever they announced is
        // found here, and the answers cached meanwhile must hear of it.
        status = ReadAll(/*initial=*/false);
        read = true;
        reload = !status.ok();
      }
    } else {
      absl::StatusOr<std::optional<absl::Time>> notified = listener_->Wait(kWaitSlice);
      if (!notified.ok()) {
        status = notified.status();
        reload = true;
      } else if (notified->has_value()) {
        // The notifying transactions' rows carry their start times, the earliest given here.
        absl::Time since = **notified;
        const absl::Time read_at = last_read_ + kMinReadGap;
        for (absl::Time now = absl::Now(); now < read_at && !stop_; now = absl::Now()) {
          absl::SleepFor(std::min(read_at - now, kWaitSlice));
        }
        // Everything that arrived meanwhile: its earliest transaction start.
        absl::StatusOr<std::optional<absl::Time>> more = listener_->Wait(absl::ZeroDuration());
        if (!more.ok()) {
          status = more.status();
          reload = true;
        } else if (more->has_value()) {
          since = std::min(since, **more);
        }
        if (status.ok()) {
          last_read_ = absl::Now();
          status = ReadSince(since);
          read = true;
        }
      } else if (absl::Now() >= next_resync) {
        status = ReadSince(last_snapshot_ - kLookBack);
        read = true;
        next_resync = absl::Now() + resync_interval_;
      }
    }
    if (read) read_failed = !status.ok();
    if (status.ok() && !read_failed) Confirm();
    if (!status.ok()) {
      LogEvent(spdlog::level::warn, "status.sync.failed",
               {{"error", std::string(status.message())}});
      // Back off a little; the stop flag is checked every slice.
      for (int i = 0; i < 4 && !stop_; ++i) absl::SleepFor(kWaitSlice);
    }
  }
}

}  // namespace keyline::server
