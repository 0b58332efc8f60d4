// The responder's store of pre-signed single-CertID responses (the data structure only; what to
// sign and when is ocsp/ocsp_responder.cc's job).
//
// Two maps, each split into shards with a reader-writer lock so that HTTP threads rarely meet:
// - slots by certificate serial: one CacheSlot per CertID as clients send it (SHA-1 and SHA-256
//   CertIDs, and their encoding variants, are separate slots since each response echoes its own
//   CertID bytes); Invalidate finds every slot of a serial here;
// - hot entries by the exact request bytes, pointing at a slot: a repeated request costs one hash
//   lookup and no ASN.1 parse.
// A slot's current response is an immutable SignedOcspResponse swapped atomically, so re-signing
// (refresh, revocation) updates every hot entry pointing at the slot at once. A slot that leaves
// the cache (eviction, failed re-signing) is marked retired and its hot entries stop answering.
//
// Memory is bounded by max_slots (evicting the slot due for refresh first, i.e. the least recently
// refreshed) and max_hot (evicting an arbitrary hot entry). Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "ocsp/certificate_status.h"
#include "ocsp/ocsp_issuer.h"
#include "ocsp/ocsp_request.h"

namespace keyline::ocsp {

// One signed OCSPResponse and the times HTTP caching and the refresh schedule need. Immutable.
struct SignedOcspResponse {
  std::string der;   // the whole OCSPResponse
  // Strong ETag, quoted: "\"<12 hex digits of SHA-256(der)>\"" (short enough to stay inline in
  // the string; 48 bits tell two versions of one response apart).
  std::string etag;
  absl::Time produced_at;
  absl::Time this_update;
  absl::Time next_update;  // the earliest nextUpdate when there are several SingleResponses
  absl::Time refresh_at;   // RefreshDue re-signs from here on
  absl::Time serve_until;  // past this the responder re-signs before answering
  CertificateStatus::Kind kind = CertificateStatus::Kind::kUnknown;  // single responses
};

// Kept lean: a full cache holds 200,000 of these.
struct CacheSlot : std::enable_shared_from_this<CacheSlot> {
  CacheSlot(const CertId& id, std::shared_ptr<const OcspIssuer> first_issuer)
      : cert_id_der(id.der), serial(id.serial), issuer(std::move(first_issuer)) {}

  const std::string cert_id_der;  // as the clients send it; echoed in the response
  const std::string serial;
  // The issuer it matched when created; after a signer rotation the responder signs with the
  // issuer now serving the same CA.
  const std::shared_ptr<const OcspIssuer> issuer;
  // Held across status lookup, signing and Install, so that the last lookup always wins: a
  // revocation (Invalidate) cannot be overtaken by a refresh that read the old status.
  std::mutex sign_mutex;
  std::atomic<std::shared_ptr<const SignedOcspResponse>> response;  // null until first signed
  std::atomic<bool> retired{false};
  absl::Time due_key = absl::InfiniteFuture();  // guarded by the shard's mutex
};

class PresignedCache {
 public:
  PresignedCache(size_t max_slots, size_t max_hot);
  PresignedCache(const PresignedCache&) = delete;
  PresignedCache& operator=(const PresignedCache&) = delete;

  // The hot path: the response of the slot `request_der` was last answered from, if that slot is
  // still cached and its response may be served at `now`. Null otherwise.
  std::shared_ptr<const SignedOcspResponse> FindByRequest(std::string_view request_der,
                                                          absl::Time now) const;

  // Points `request_der` at `slot` for FindByRequest (no-op if the slot is retired).
  void RememberRequest(std::string_view request_der, std::shared_ptr<CacheSlot> slot);

  // The slot for `cert_id` (matched by its DER), created empty if missing; creating may evict
  // the slot due first when the cache is full.
  std::shared_ptr<CacheSlot> GetOrCreate(const CertId& cert_id,
                                         std::shared_ptr<const OcspIssuer> issuer);

  // Makes `response` the slot's answer and schedules it by response->refresh_at. False (and
  // nothing changes) when the slot was retired meanwhile.
  bool Install(CacheSlot& slot, std::shared_ptr<const SignedOcspResponse> response);

  // Removes the slot from the cache; its hot entries stop answering.
  void Retire(CacheSlot& slot);

  std::vector<std::shared_ptr<CacheSlot>> SlotsForSerial(std::string_view serial) const;

  // Slots whose refresh_at is at or before `now`, earliest first within each shard.
  std::vector<std::shared_ptr<CacheSlot>> DueSlots(absl::Time now) const;

  size_t slot_count() const;
  size_t hot_count() const;
  uint64_t hot_hits() const;

  // Whether a response may be served at `now`.
  static bool Servable(const SignedOcspResponse* response, absl::Time now) {
    return response != nullptr && now < response->serve_until;
  }

 private:
  static constexpr size_t kShards = 16;

  struct alignas(64) SlotShard {
    mutable std::shared_mutex mutex;
    absl::flat_hash_map<std::string, absl::InlinedVector<std::shared_ptr<CacheSlot>, 1>> by_serial;
    absl::btree_set<std::pair<absl::Time, CacheSlot*>> by_due;  // installed slots
    size_t slots = 0;
  };
  struct alignas(64) HotShard {
    mutable std::shared_mutex mutex;
    absl::flat_hash_map<std::string, std::shared_ptr<CacheSlot>> by_request;
    mutable std::atomic<uint64_t> hits{0};
  };

  static size_t ShardOf(std::string_view key);
  SlotShard& ShardFor(const CacheSlot& slot) { return slot_shards_[ShardOf(slot.serial)]; }
  // Unlinks a slot from its shard; the caller holds the shard's exclusive lock.
  static void RetireLocked(SlotShard& shard, CacheSlot& slot);

  const size_t max_slots_per_shard_;
  const size_t max_hot_per_shard_;
  SlotShard slot_shards_[kShards];
  HotShard hot_shards_[kShards];
};

}  // namespace keyline::ocsp
