// Full and delta CRLs for every CA Keyline runs, kept current and ready to serve.
//
// One replica publishes at a time: the one holding the publisher lease in PostgreSQL
// (store/published_crl_repository.h; migrations/0009 says why). Each PublishDue (a periodic task)
// takes or renews the lease; the holder signs what is due with each CA's HSM key and stores it,
// and every other replica serves what was stored. A CRL is served, here too, only once stored,
// which fails when the lease has passed to another replica. A replica that takes the lease first
// reads every revocation committed so far (`catch_up`), so its CRLs list everything its
// predecessor's did, and starts with a full CRL.
//
// Entries come from the status feed (Add, on the sync thread). The holder signs:
// - a full CRL at the start of its term, when entries arrived and crl_full_interval has passed
//   since the last full one, or when half of its validity has passed;
// - a delta CRL (entries since the last full CRL) with every full one, and whenever entries
//   arrived since the last delta (at most every crl_delta_interval, the task's period), or when
//   half of its validity has passed.
// Numbers come from the database (store/crl_number_repository.h): increasing across restarts and
// replicas, one sequence per CA for both kinds. RFC 5280 5.2.3: a delta issued together with a
// full CRL shares its number and its revocation information (its base is the full CRL before).
// The first full CRL of a term has no earlier one here to serve as a base, so its delta is
// numbered after it and issued in the next second (PublishDue waits for it). Otherwise a CA gets
// at most one CRL a second, the stored ones of an earlier holder counted, so that no two share a
// thisUpdate (and an HTTP Last-Modified).
//
// Find hands the HTTP threads immutable snapshots; a CA without a CRL yet is not found.
// Thread safety: Add from any thread, PublishDue from another, Find and AddCa from any.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ca/crl_builder.h"
#include "ca/issuing_ca.h"
#include "ca/profiles.h"
#include "store/certificate_status_feed.h"
#include "store/crl_number_repository.h"
#include "store/published_crl_repository.h"

namespace keyline::server {

struct CrlPublisherOptions {
  absl::Duration validity = absl::Hours(24);
  absl::Duration full_interval = absl::Minutes(5);
  // How long the publisher lease lasts unless renewed (every PublishDue renews it): how long
  // CRLs may go unpublished after the holder vanished without releasing it.
  absl::Duration lease_term = absl::Seconds(10);
};

class CrlPublisher {
 public:
  // Adds every revocation committed so far through Add; called when this replica takes the lease.
  using CatchUp = std::function<absl::Status()>;

  // One builder per CA; InvalidArgument when a CA certificate cannot sign CRLs. `holder` names
  // this replica in the lease, uniquely.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CrlPublisher>> Create(
      const ca::ProfileSettings& profiles, const std::vector<const ca::IssuingCa*>& cas,
      store::CrlNumberRepository& numbers, store::PublishedCrlRepository& published,
      std::string holder, CatchUp catch_up, CrlPublisherOptions options);

  // Publishes `ca`'s CRLs too from now on (a rotated-in deployment CA); it must outlive the
  // publisher. Its first CRLs come with the next PublishDue: signed there when this replica holds
  // the lease, else taken up once the holder has the CA too and stored them. Adding the same CA
  // again changes nothing; another object with the id of one already added is FailedPrecondition.
  absl::Status AddCa(const ca::IssuingCa& ca);

  // A revoked row of the status feed; rows of CAs this publisher does not know are ignored.
  void Add(const store::CertificateStatusRow& row);

  // Takes or renews the lease; the holder signs and stores every CRL that is due, the others take
  // up what was stored. Returns the first error (the other CAs are still tried); losing the lease
  // is not one. A holder whose rounds fail three times in a row gives the lease up and leaves it
  // to the others for two lease lengths.
  absl::Status PublishDue(absl::Time now);

  // Gives the lease up for good, so that another replica need not wait for it to run out
  // (shutdown): later rounds only take up what the holder stores.
  void Release();

  // Whether this replica held the lease at its last PublishDue.
  bool publishing() const { return publishing_.load(); }

  // The CRL served at `file` ("deployment-default.crl" or "deployment-default-delta.crl", the
  // last part of the URLs in certificates); der null when unknown or not built yet.
  ca::BuiltCrl Find(std::string_view file) const;

  // Entries held for `ca_id` (for tests and metrics).
  size_t EntriesFor(int32_t ca_id) const;

 private:
  struct PerCa {
    const ca::IssuingCa* ca = nullptr;
    std::unique_ptr<ca::CrlBuilder> builder;
    std::string full_file;
    std::string delta_file;
    size_t entries_at_full = 0;   // builder size when the last full CRL was built
    size_t entries_at_delta = 0;  // and the last delta
    uint64_t base_number = 0;     // the term's last full CRL's number (0 before the first)
    absl::Time last_issued = absl::InfinitePast();  // thisUpdate of the last CRL, either kind
    ca::BuiltCrl served_full;                       // the latest stored; guarded by served_mutex_
    ca::BuiltCrl served_delta;                      // likewise
    ca::BuiltCrl& served(bool delta) { return delta ? served_delta : served_full; }
    const ca::BuiltCrl& served(bool delta) const { return delta ? served_delta : served_full; }
  };
  CrlPublisher(const ca::ProfileSettings& profiles, store::CrlNumberRepository& numbers,
               store::PublishedCrlRepository& published, std::string holder, CatchUp catch_up,
               CrlPublisherOptions options)
      : profiles_(profiles),
        numbers_(numbers),
        published_(published),
        holder_(std::move(holder)),
        catch_up_(std::move(catch_up)),
        options_(options) {}
  static constexpr int kFailedRoundsBeforeStandingDown = 3;
  absl::Status StartTerm();
  // HoldLease for this replica, noting when: the term it holds the lease in, or nullopt.
  absl::StatusOr<std::optional<int64_t>> RenewLease();
  // Counts a round that held the lease and failed (or resets the count), standing down at
  // kFailedRoundsBeforeStandingDown; returns `status`.
  absl::Status CountFailedRound(absl::Status status);
  void ReleaseLocked();
  absl::Status PublishDueFor(PerCa& per_ca, absl::Time now);
  // Stores `crl`, then serves it.
  absl::Status StoreAndServe(PerCa& per_ca, const ca::BuiltCrl& crl);
  // Serves what was stored and is newer than what is served; under publish_mutex_ and a shared
  // lock on cas_mutex_.
  absl::Status TakeUpStored();
  ca::BuiltCrl Served(const PerCa& per_ca, bool delta) const;
  static void LogDelta(const PerCa& per_ca, const ca::BuiltCrl& delta, absl::Time started);

  const ca::ProfileSettings& profiles_;
  store::CrlNumberRepository& numbers_;
  store::PublishedCrlRepository& published_;
  const std::string holder_;
  const CatchUp catch_up_;
  const CrlPublisherOptions options_;
  mutable std::shared_mutex cas_mutex_;  // the map: AddCa writes, everything else reads
  std::map<int32_t, PerCa> cas_;         // by CA id; guarded by cas_mutex_
  std::mutex publish_mutex_;             // one PublishDue at a time
  mutable std::mutex served_mutex_;      // PerCa's served CRLs
  std::atomic<bool> publishing_{false};  // written under publish_mutex_
  // The rest under publish_mutex_:
  int64_t term_ = 0;  // the lease's term this replica publishes in; 0: it does not
  absl::Time renewed_at_ = absl::InfinitePast();
  int failed_rounds_ = 0;  // rounds in a row that held the lease and failed
  absl::Time stand_down_until_ = absl::InfinitePast();  // no taking the lease before
};

}  // namespace keyline::server
