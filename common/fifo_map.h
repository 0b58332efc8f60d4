// A map by string key that keeps at most `capacity` entries: when full, the entry that entered
// first goes. First in, first out rather than an arbitrary victim: dropping a hash map's first
// slot instead threw most new entries out within a few dozen insertions, before their second use
// (see ca/certificate_cache.h). Hits do not refresh an entry.
//
// Not thread-safe: its owner locks (ca::CertificateCache, provisioning::BegunChallenges).
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/absl_compat.h"

namespace keyline {

template <typename Value>
class FifoMap {
 public:
  explicit FifoMap(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

  // The entry of `key`, or nullptr.
  Value* Find(std::string_view key) {
    const auto found = entries_.find(AsAbsl(key));
    return found == entries_.end() ? nullptr : &found->second;
  }

  // Stores `value` under `key` (replacing an entry of the same key), dropping the oldest entry
  // when full.
  Value& Insert(std::string_view key, Value value) {
    if (entry_order_.size() < capacity_) {
      entry_order_.emplace_back(key);
    } else {
      // The oldest slot's entry may have been taken already; erasing it then changes nothing.
      entries_.erase(entry_order_[next_victim_]);
      entry_order_[next_victim_].assign(key);
      next_victim_ = (next_victim_ + 1) % capacity_;
    }
    return entries_.insert_or_assign(std::string(key), std::move(value)).first->second;
  }

  // The entry of `key`, removed from the map; nullopt if there is none. Its place in the entry
  // order stays until its turn comes: taking does not make room early.
  std::optional<Value> Take(std::string_view key) {
    const auto found = entries_.find(AsAbsl(key));
    if (found == entries_.end()) return std::nullopt;
    std::optional<Value> value = std::move(found->second);
    entries_.erase(found);
    return value;
  }

  size_t size() const { return entries_.size(); }

 private:
  const size_t capacity_;
  absl::flat_hash_map<std::string, Value> entries_;
  // The keys in the order they entered: a ring of `capacity_` slots once full, whose oldest slot
  // is next_victim_.
  std::vector<std::string> entry_order_;
  size_t next_victim_ = 0;
};

}  // namespace keyline
