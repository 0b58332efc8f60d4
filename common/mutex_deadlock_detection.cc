#include "common/mutex_deadlock_detection.h"

#include "absl/synchronization/mutex.h"

namespace keyline {

void SkipMutexDeadlockDetectionInReleaseBuilds() {
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

}  // namespace keyline
