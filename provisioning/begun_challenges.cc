#include "provisioning/begun_challenges.h"

#include <utility>

namespace keyline::provisioning {

void BegunChallenges::Put(store::ChallengeWithDevice snapshot) {
  const std::string id = snapshot.challenge.id;
  std::lock_guard lock(mutex_);
  by_id_.Insert(id, std::move(snapshot));
}

std::optional<store::ChallengeWithDevice> BegunChallenges::Take(std::string_view id) {
  std::lock_guard lock(mutex_);
  return by_id_.Take(id);
}

size_t BegunChallenges::size() const {
  std::lock_guard lock(mutex_);
  return by_id_.size();
}

}  // namespace keyline::provisioning
