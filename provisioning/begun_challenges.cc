#include "provisioning/begun_challenges.h"

#include <algorithm>
#include <utility>

#include "common/absl_compat.h"

namespace keyline::provisioning {

BegunChallenges::BegunChallenges(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void BegunChallenges::Put(store::ChallengeWithDevice snapshot) {
  std::string id = snapshot.challenge.id;
  std::lock_guard lock(mutex_);
  if (entry_order_.size() < capacity_) {
    entry_order_.push_back(id);
  } else {
    // The oldest slot's id may have been taken already; erasing it then changes nothing.
    by_id_.erase(entry_order_[next_victim_]);
    entry_order_[next_victim_] = id;
    next_victim_ = (next_victim_ + 1) % capacity_;
  }
  by_id_.insert_or_assign(std::move(id), std::move(snapshot));
}

std::optional<store::ChallengeWithDevice> BegunChallenges::Take(std::string_view id) {
  std::lock_guard lock(mutex_);
  const auto found = by_id_.find(AsAbsl(id));
  if (found == by_id_.end()) return std::nullopt;
  std::optional<store::ChallengeWithDevice> snapshot = std::move(found->second);
  by_id_.erase(found);
  return snapshot;
}

size_t BegunChallenges::size() const {
  std::lock_guard lock(mutex_);
  return by_id_.size();
}

}  // namespace keyline::provisioning
