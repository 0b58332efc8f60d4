#include "ocsp/presigned_cache.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "common/absl_compat.h"

namespace keyline::ocsp {

PresignedCache::PresignedCache(size_t max_slots, size_t max_hot)
    : max_slots_per_shard_(std::max<size_t>(1, (max_slots + kShards - 1) / kShards)),
      max_hot_per_shard_(std::max<size_t>(1, (max_hot + kShards - 1) / kShards)) {}

size_t PresignedCache::ShardOf(std::string_view key) {
  // The maps inside a shard hash the same key again; multiplying spreads the shard choice over
  // bits the maps' own probing does not rely on alone.
  const uint64_t hash = absl::Hash<absl::string_view>()(AsAbsl(key));
  return static_cast<size_t>((hash * 0x9e3779b97f4a7c15ULL) >> 60) % kShards;
}

std::shared_ptr<const SignedOcspResponse> PresignedCache::FindByRequest(
    std::string_view request_der, absl::Time now) const {
  const HotShard& shard = hot_shards_[ShardOf(request_der)];
  std::shared_lock lock(shard.mutex);
  const auto entry = shard.by_request.find(AsAbsl(request_der));
  if (entry == shard.by_request.end()) return nullptr;
  const CacheSlot& slot = *entry->second;
  if (slot.retired.load(std::memory_order_acquire)) return nullptr;
  std::shared_ptr<const SignedOcspResponse> response =
      slot.response.load(std::memory_order_acquire);
  if (!Servable(response.get(), now)) return nullptr;
  shard.hits.fetch_add(1, std::memory_order_relaxed);
  return response;
}

void PresignedCache::RememberRequest(std::string_view request_der,
                                     std::shared_ptr<CacheSlot> slot) {
  if (slot->retired.load(std::memory_order_acquire)) return;
  HotShard& shard = hot_shards_[ShardOf(request_der)];
  std::unique_lock lock(shard.mutex);
  auto entry = shard.by_request.find(AsAbsl(request_der));
  if (entry != shard.by_request.end()) {
    entry->second = std::move(slot);
    return;
  }
  if (shard.by_request.size() >= max_hot_per_shard_) {
    // Any entry will do: an evicted request costs one parse the next time it comes.
    shard.by_request.erase(shard.by_request.begin());
  }
  shard.by_request.emplace(std::string(request_der), std::move(slot));
}

std::shared_ptr<CacheSlot> PresignedCache::GetOrCreate(const CertId& cert_id,
                                                       std::shared_ptr<const OcspIssuer> issuer) {
  SlotShard& shard = slot_shards_[ShardOf(cert_id.serial)];
  const auto find = [&]() -> std::shared_ptr<CacheSlot> {
    const auto entry = shard.by_serial.find(AsAbsl(cert_id.serial));
    if (entry == shard.by_serial.end()) return nullptr;
    for (const auto& slot : entry->second) {
      if (slot->cert_id_der == cert_id.der) return slot;
    }
    return nullptr;
  };
  {
    std::shared_lock lock(shard.mutex);
    if (auto slot = find()) return slot;
  }
  std::unique_lock lock(shard.mutex);
  if (auto slot = find()) return slot;
  if (shard.slots >= max_slots_per_shard_ && !shard.by_due.empty()) {
    RetireLocked(shard, *shard.by_due.begin()->second);
  }
  auto slot = std::make_shared<CacheSlot>(cert_id, std::move(issuer));
  shard.by_serial[cert_id.serial].push_back(slot);
  ++shard.slots;
  return slot;
}

bool PresignedCache::Install(CacheSlot& slot, std::shared_ptr<const SignedOcspResponse> response) {
  SlotShard& shard = ShardFor(slot);
  std::unique_lock lock(shard.mutex);
  if (slot.retired.load(std::memory_order_relaxed)) return false;
  if (slot.due_key != absl::InfiniteFuture()) shard.by_due.erase({slot.due_key, &slot});
  slot.due_key = response->refresh_at;
  shard.by_due.insert({slot.due_key, &slot});
  slot.response.store(std::move(response), std::memory_order_release);
  return true;
}

void PresignedCache::Retire(CacheSlot& slot) {
  SlotShard& shard = ShardFor(slot);
  std::unique_lock lock(shard.mutex);
  RetireLocked(shard, slot);
}

void PresignedCache::RetireLocked(SlotShard& shard, CacheSlot& slot) {
  if (slot.retired.exchange(true, std::memory_order_acq_rel)) return;
  if (slot.due_key != absl::InfiniteFuture()) shard.by_due.erase({slot.due_key, &slot});
  slot.due_key = absl::InfiniteFuture();
  // Hot entries may keep the slot object alive for a while; its response need not live as long.
  slot.response.store(nullptr, std::memory_order_release);
  const auto entry = shard.by_serial.find(AsAbsl(slot.serial));
  if (entry != shard.by_serial.end()) {
    auto& slots = entry->second;
    const auto position = std::find_if(slots.begin(), slots.end(),
                                       [&](const auto& held) { return held.get() == &slot; });
    if (position != slots.end()) {
      slots.erase(position);
      --shard.slots;
    }
    if (slots.empty()) shard.by_serial.erase(entry);
  }
}

std::vector<std::shared_ptr<CacheSlot>> PresignedCache::SlotsForSerial(
    std::string_view serial) const {
  const SlotShard& shard = slot_shards_[ShardOf(serial)];
  std::shared_lock lock(shard.mutex);
  const auto entry = shard.by_serial.find(AsAbsl(serial));
  if (entry == shard.by_serial.end()) return {};
  return {entry->second.begin(), entry->second.end()};
}

std::vector<std::shared_ptr<CacheSlot>> PresignedCache::DueSlots(absl::Time now) const {
  std::vector<std::shared_ptr<CacheSlot>> due;
  for (const SlotShard& shard : slot_shards_) {
    std::shared_lock lock(shard.mutex);
    for (const auto& [refresh_at, slot] : shard.by_due) {
      if (refresh_at > now) break;
      due.push_back(slot->shared_from_this());
    }
  }
  return due;
}

size_t PresignedCache::slot_count() const {
  size_t total = 0;
  for (const SlotShard& shard : slot_shards_) {
    std::shared_lock lock(shard.mutex);
    total += shard.slots;
  }
  return total;
}

size_t PresignedCache::hot_count() const {
  size_t total = 0;
  for (const HotShard& shard : hot_shards_) {
    std::shared_lock lock(shard.mutex);
    total += shard.by_request.size();
  }
  return total;
}

uint64_t PresignedCache::hot_hits() const {
  uint64_t total = 0;
  for (const HotShard& shard : hot_shards_) total += shard.hits.load(std::memory_order_relaxed);
  return total;
}

}  // namespace keyline::ocsp
