// The CAs a running keyline-server signs and checks with, by id and by
// deployment. A deployment CA rotation (server/ca_rotation.h) adds the new CA
// and makes it the deployment's current one while RPCs are in flight, so
// lookups take a lock; the CA objects themselves are owned by keyline-server
// and outlive every RPC.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "ca/issuing_ca.h"

namespace keyline::provisioning {

class CaRegistry {
 public:
  // Adds `ca` (null is ignored); with `current_for`, it becomes the CA that
  // issues that deployment's device certificates from now on. A CA already
  // known by id is not added twice.
  void Add(const ca::IssuingCa* ca, std::optional<std::string> current_for = std::nullopt);

  // Null when unknown.
  const ca::IssuingCa* ById(int32_t id) const;
  // The CA issuing `deployment`'s device certificates now; null when the
  // deployment has none.
  const ca::IssuingCa* CurrentFor(std::string_view deployment) const;
  bool HasDeployment(std::string_view deployment) const {
    return CurrentFor(deployment) != nullptr;
  }
  // Every CA added, in the order added.
  std::vector<const ca::IssuingCa*> All() const;

 private:
  mutable absl::Mutex mutex_;
  std::map<int32_t, const ca::IssuingCa*> by_id_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, const ca::IssuingCa*, std::less<>> current_ ABSL_GUARDED_BY(mutex_);
  std::vector<const ca::IssuingCa*> order_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace keyline::provisioning
