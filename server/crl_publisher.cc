#include "server/crl_publisher.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace keyline::server {
namespace {

std::string LastPathPart(const std::string& url) {
  const size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

bool HalfExpired(const ca::BuiltCrl& crl, absl::Time now) {
  return crl.der == nullptr || now >= crl.this_update + (crl.next_update - crl.this_update) / 2;
}

// The start of the second after `now`'s, waited for on the real clock (at most a second).
absl::Time WaitForTheNextSecond(absl::Time now) {
  const absl::Time next = absl::FromUnixSeconds(absl::ToUnixSeconds(now) + 1);
  const absl::Duration wait = next - absl::Now();
  if (wait > absl::ZeroDuration()) absl::SleepFor(std::min(wait, absl::Seconds(1)));
  return next;
}

// Milliseconds since `started`, to a tenth.
double BuildMilliseconds(absl::Time started) {
  return std::round(absl::ToDoubleMilliseconds(absl::Now() - started) * 10) / 10;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CrlPublisher>> CrlPublisher::Create(
    const ca::ProfileSettings& profiles, const std::vector<const ca::IssuingCa*>& cas,
    store::CrlNumberRepository& numbers, store::PublishedCrlRepository& published,
    std::string holder, CatchUp catch_up, CrlPublisherOptions options) {
  std::unique_ptr<CrlPublisher> publisher(new CrlPublisher(
      profiles, numbers, published, std::move(holder), std::move(catch_up), options));
  for (const ca::IssuingCa* issuing_ca : cas) {
    KEYLINE_RETURN_IF_ERROR(publisher->AddCa(*issuing_ca));
  }
  return publisher;
}

absl::Status CrlPublisher::AddCa(const ca::IssuingCa& issuing_ca) {
  {
    std::shared_lock lock(cas_mutex_);
    if (const auto it = cas_.find(issuing_ca.id()); it != cas_.end()) {
      if (it->second.ca == &issuing_ca) return absl::OkStatus();
      return absl::FailedPreconditionError(
          absl::StrCat("CA ", issuing_ca.name(), ": another object with its id is published"));
    }
  }
  PerCa per_ca;
  per_ca.ca = &issuing_ca;
  KEYLINE_ASSIGN_OR_RETURN(
      per_ca.builder,
      ca::CrlBuilder::Create(issuing_ca.certificate(), ca::CrlUrl(profiles_, issuing_ca.name())));
  per_ca.full_file = LastPathPart(per_ca.builder->crl_url());
  per_ca.delta_file = LastPathPart(per_ca.builder->delta_crl_url());
  std::unique_lock lock(cas_mutex_);
  cas_.emplace(issuing_ca.id(), std::move(per_ca));
  return absl::OkStatus();
}

void CrlPublisher::Add(const store::CertificateStatusRow& row) {
  if (!row.revoked) return;
  std::shared_lock lock(cas_mutex_);
  const auto it = cas_.find(row.issuer_id);
  if (it == cas_.end()) return;
  const absl::StatusOr<bool> added =
      it->second.builder->Add(row.serial, row.revoked_at, row.reason, row.invalidity_date);
  if (!added.ok()) {
    // The schema's checks make this unreachable; never let one bad row stop the feed.
    LogEvent(spdlog::level::err, "crl.entry.refused",
             {{"ca", it->second.ca->name()}, {"error", std::string(added.status().message())}});
  }
}

absl::Status CrlPublisher::PublishDueFor(PerCa& per_ca, absl::Time now) {
  // One CRL of a CA a second (the delta issued with a full CRL aside): CRLs of one second would
  // share a thisUpdate and a Last-Modified, so that a client revalidating by date would keep the
  // older one, and two issued at the same time must share a number (RFC 5280 5.2.3). Nor may a
  // CRL's thisUpdate go back because `now` was read before the publish lock, or because an
  // earlier holder's clock ran a little ahead (a clock stepped back by more is followed).
  if (now < per_ca.last_issued && per_ca.last_issued - now < absl::Seconds(2)) {
    now = per_ca.last_issued;
  }
  if (absl::ToUnixSeconds(now) == absl::ToUnixSeconds(per_ca.last_issued)) {
    if (per_ca.base_number != 0) return absl::OkStatus();
    // A term's first CRLs, in the second of the previous holder's last: wait for the next second
    // rather than leave the previous holder's CRLs until the next round (at a start, the server
    // would begin serving them).
    now = WaitForTheNextSecond(now);
  }
  const size_t entries = per_ca.builder->size();
  const ca::BuiltCrl full = Served(per_ca, /*delta=*/false);
  const bool full_due =
      per_ca.base_number == 0 || HalfExpired(full, now) ||
      (entries != per_ca.entries_at_full && now - full.this_update >= options_.full_interval);
  if (full_due) {
    KEYLINE_ASSIGN_OR_RETURN(const uint64_t number, numbers_.Next(per_ca.ca->id()));
    const uint64_t previous_base = per_ca.base_number;
    const absl::Time started = absl::Now();
    KEYLINE_ASSIGN_OR_RETURN(
        const ca::BuiltCrl built,
        per_ca.builder->BuildFull(number, now, now + options_.validity, per_ca.ca->key()));
    // ms: building and signing (what bench/crl reports), not numbering or storing.
    const double build_ms = BuildMilliseconds(started);
    KEYLINE_RETURN_IF_ERROR(StoreAndServe(per_ca, built));
    per_ca.entries_at_full = built.entries;
    per_ca.base_number = number;
    per_ca.last_issued = now;
    LogEvent(spdlog::level::info, "crl.full.published",
             {{"ca", per_ca.ca->name()},
              {"crl_number", number},
              {"entries", built.entries},
              {"ms", build_ms}});
    if (previous_base != 0) {
      // RFC 5280 5.2.3: a delta issued together with a full CRL has its number and gives the
      // same revocation information, the entries from the previous full CRL to this one's end.
      // Entries that arrived meanwhile go in the next delta.
      const absl::Time delta_started = absl::Now();
      KEYLINE_ASSIGN_OR_RETURN(
          const ca::BuiltCrl delta,
          per_ca.builder->BuildDeltaWithFull(number, previous_base, now, now + options_.validity,
                                             per_ca.ca->key()));
      KEYLINE_RETURN_IF_ERROR(StoreAndServe(per_ca, delta));
      per_ca.entries_at_delta = built.entries;
      LogDelta(per_ca, delta, delta_started);
      return absl::OkStatus();
    }
    // The first full CRL of this term: no earlier one was built here to base a delta on, so its
    // delta is numbered after it and must not be issued at the same time (5.2.3). It waits for
    // the next second rather than leave the delta URL without a CRL until the next call.
    now = WaitForTheNextSecond(now);
  }
  const ca::BuiltCrl delta = Served(per_ca, /*delta=*/true);
  // A delta older than the latest full CRL (its pair failed to sign or store, or an earlier
  // holder's) is due as well.
  const bool delta_due = full_due || delta.der == nullptr || HalfExpired(delta, now) ||
                         delta.crl_number < per_ca.base_number ||
                         per_ca.builder->size() != per_ca.entries_at_delta;
  if (!delta_due) return absl::OkStatus();
  const size_t size_now = per_ca.builder->size();
  KEYLINE_ASSIGN_OR_RETURN(const uint64_t number, numbers_.Next(per_ca.ca->id()));
  const absl::Time started = absl::Now();
  KEYLINE_ASSIGN_OR_RETURN(const ca::BuiltCrl built,
                           per_ca.builder->BuildDelta(number, per_ca.base_number, now,
                                                      now + options_.validity, per_ca.ca->key()));
  KEYLINE_RETURN_IF_ERROR(StoreAndServe(per_ca, built));
  per_ca.entries_at_delta = size_now;
  per_ca.last_issued = now;
  LogDelta(per_ca, built, started);
  return absl::OkStatus();
}

absl::Status CrlPublisher::StoreAndServe(PerCa& per_ca, const ca::BuiltCrl& crl) {
  // Refused without the lease (PublishDue sees to it); any other error is retried as due on the
  // next round, since nothing changed here.
  KEYLINE_RETURN_IF_ERROR(published_.Store(holder_, term_, per_ca.ca->id(), crl));
  std::lock_guard lock(served_mutex_);
  per_ca.served(crl.base_crl_number.has_value()) = crl;
  return absl::OkStatus();
}

ca::BuiltCrl CrlPublisher::Served(const PerCa& per_ca, bool delta) const {
  std::lock_guard lock(served_mutex_);
  return per_ca.served(delta);
}

absl::Status CrlPublisher::TakeUpStored() {
  KEYLINE_ASSIGN_OR_RETURN(const std::vector<store::StoredCrlNumber> numbers, published_.Numbers());
  absl::Status first;
  for (const store::StoredCrlNumber& stored : numbers) {
    const auto it = cas_.find(stored.ca_id);
    if (it == cas_.end()) continue;  // a CA this replica has not picked up yet
    PerCa& per_ca = it->second;
    if (Served(per_ca, stored.delta).crl_number >= stored.crl_number) continue;
    absl::StatusOr<ca::BuiltCrl> crl = published_.Read(stored.ca_id, stored.delta);
    if (!crl.ok()) {
      if (first.ok()) first = crl.status();
      continue;
    }
    // A holder's next CRL is never issued in the second of this one (PublishDueFor).
    per_ca.last_issued = std::max(per_ca.last_issued, crl->this_update);
    // Served CRLs change only under publish_mutex_, which this holds: still older than `crl`.
    std::lock_guard lock(served_mutex_);
    per_ca.served(stored.delta) = *std::move(crl);
  }
  return first;
}

absl::Status CrlPublisher::StartTerm() {
  // Whatever an earlier holder stored is what relying parties may have seen: its times bound
  // this term's, and everything its CRLs listed, committed before it stored them and so before
  // this replica took the lease, is read again here (through Add, which takes cas_mutex_ itself).
  {
    std::shared_lock cas_lock(cas_mutex_);
    KEYLINE_RETURN_IF_ERROR(TakeUpStored());
  }
  KEYLINE_RETURN_IF_ERROR(catch_up_());
  std::shared_lock cas_lock(cas_mutex_);
  for (auto& [id, per_ca] : cas_) per_ca.base_number = 0;  // each starts with a full CRL
  return absl::OkStatus();
}

void CrlPublisher::LogDelta(const PerCa& per_ca, const ca::BuiltCrl& delta, absl::Time started) {
  LogEvent(spdlog::level::info, "crl.delta.published",
           {{"ca", per_ca.ca->name()},
            {"crl_number", delta.crl_number},
            {"base_crl_number", delta.base_crl_number.value_or(0)},
            {"entries", delta.entries},
            {"ms", BuildMilliseconds(started)}});
}

absl::Status CrlPublisher::PublishDue(absl::Time now) {
  // PerCa's publishing fields are only touched under publish_mutex_; the shared lock on
  // cas_mutex_ keeps the map itself still while AddCa may wait.
  std::lock_guard lock(publish_mutex_);
  // `now` may have been read long before the lock was free (a round can take seconds): a CRL's
  // thisUpdate is never earlier than the clock when it is signed.
  now = std::max(now, absl::Now());
  std::optional<int64_t> term;
  if (now >= stand_down_until_) {
    // Unreachable database: keep serving what is served (the readiness check reports the lag),
    // and the term: if nobody took the lease meanwhile, nobody else published.
    KEYLINE_ASSIGN_OR_RETURN(term, RenewLease());
  }
  if (!term) {
    if (std::exchange(term_, 0) != 0) {
      publishing_ = false;
      LogEvent(spdlog::level::warn, "crl.publisher.lease.lost", {{"holder", holder_}});
    }
    std::shared_lock cas_lock(cas_mutex_);
    return TakeUpStored();
  }
  if (*term != term_) {
    // Taken, or taken back after another replica held it: that one may have published since.
    term_ = 0;
    publishing_ = false;
    if (absl::Status started = StartTerm(); !started.ok()) {
      return CountFailedRound(absl::Status(
          started.code(), absl::StrCat("starting to publish CRLs: ", started.message())));
    }
    term_ = *term;
    LogEvent(spdlog::level::info, "crl.publisher.lease.taken",
             {{"holder", holder_}, {"term", term_}});
  }
  // Also after taking back its own lease that ran out mid-round (the same term).
  publishing_ = true;
  std::shared_lock cas_lock(cas_mutex_);
  absl::Status first;
  for (auto& [id, per_ca] : cas_) {
    // One CA's CRLs can take a while (a million entries, the wait for the next second): the
    // lease is renewed as the round goes on, or the later CAs' CRLs would find it run out.
    if (absl::Now() - renewed_at_ > options_.lease_term / 3) {
      const absl::StatusOr<std::optional<int64_t>> held = RenewLease();
      if (!held.ok()) {
        first = held.status();
        break;
      }
      if (*held != std::optional<int64_t>(term_)) break;  // the next round sees why
    }
    absl::Status status = PublishDueFor(per_ca, now);
    if (store::IsLeaseLost(status)) {
      // It ran out or went to another replica: the next round finds out which.
      LogEvent(spdlog::level::warn, "crl.publisher.lease.lost",
               {{"holder", holder_}, {"ca", per_ca.ca->name()}});
      publishing_ = false;
      failed_rounds_ = 0;
      return absl::OkStatus();
    }
    if (!status.ok() && first.ok()) {
      first = absl::Status(status.code(),
                           absl::StrCat("CRL of ", per_ca.ca->name(), ": ", status.message()));
    }
  }
  return CountFailedRound(first);
}

absl::StatusOr<std::optional<int64_t>> CrlPublisher::RenewLease() {
  KEYLINE_ASSIGN_OR_RETURN(const std::optional<int64_t> term,
                           published_.HoldLease(holder_, options_.lease_term));
  renewed_at_ = absl::Now();
  return term;
}

absl::Status CrlPublisher::CountFailedRound(absl::Status status) {
  if (status.ok()) {
    failed_rounds_ = 0;
  } else if (++failed_rounds_ >= kFailedRoundsBeforeStandingDown) {
    // A holder that cannot sign (its HSM session broke, its database writes fail, its catch-up
    // read fails) would freeze every replica's CRLs: it steps aside for two lease lengths so
    // that another may take over.
    LogEvent(spdlog::level::warn, "crl.publisher.standing.down",
             {{"holder", holder_},
              {"rounds", failed_rounds_},
              {"error", std::string(status.message())}});
    failed_rounds_ = 0;
    ReleaseLocked();
    stand_down_until_ = absl::Now() + 2 * options_.lease_term;
  }
  return status;
}

void CrlPublisher::Release() {
  std::lock_guard lock(publish_mutex_);
  ReleaseLocked();
  // For good: a round that an RPC still starts during the shutdown (a CA picked up) must not take
  // the lease again.
  stand_down_until_ = absl::InfiniteFuture();
}

void CrlPublisher::ReleaseLocked() {
  term_ = 0;
  publishing_ = false;
  // Whether or not this replica thinks it holds the lease: a round that failed may have left it.
  const absl::Status released = published_.ReleaseLease(holder_);
  if (!released.ok()) {
    LogEvent(spdlog::level::warn, "crl.publisher.release.failed",
             {{"error", std::string(released.message())}});
  }
}

ca::BuiltCrl CrlPublisher::Find(std::string_view file) const {
  std::shared_lock lock(cas_mutex_);
  for (const auto& [id, per_ca] : cas_) {
    if (file == per_ca.full_file) return Served(per_ca, /*delta=*/false);
    if (file == per_ca.delta_file) return Served(per_ca, /*delta=*/true);
  }
  return {};
}

size_t CrlPublisher::EntriesFor(int32_t ca_id) const {
  std::shared_lock lock(cas_mutex_);
  const auto it = cas_.find(ca_id);
  return it == cas_.end() ? 0 : it->second.builder->size();
}

}  // namespace keyline::server
