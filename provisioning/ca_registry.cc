#include "provisioning/ca_registry.h"

namespace keyline::provisioning {

void CaRegistry::Add(const ca::IssuingCa* ca, std::optional<std::string> current_for) {
  if (ca == nullptr) return;
  absl::MutexLock lock(&mutex_);
  if (by_id_.emplace(ca->id(), ca).second) order_.push_back(ca);
  if (current_for) current_[*std::move(current_for)] = ca;
}

const ca::IssuingCa* CaRegistry::ById(int32_t id) const {
  absl::MutexLock lock(&mutex_);
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

const ca::IssuingCa* CaRegistry::CurrentFor(std::string_view deployment) const {
  absl::MutexLock lock(&mutex_);
  const auto it = current_.find(deployment);
  return it == current_.end() ? nullptr : it->second;
}

std::vector<const ca::IssuingCa*> CaRegistry::All() const {
  absl::MutexLock lock(&mutex_);
  return order_;
}

}  // namespace keyline::provisioning
