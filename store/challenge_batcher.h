// BeginEnrollment's group look-up: many request threads hand in challenge requests, one thread
// runs what has queued as one statement (FindDevicesAndCreateChallenges) on a connection of its
// own, and each caller's callback gets its device and whether its challenge was stored. Under
// load that is one round trip, and one wake-up of one PostgreSQL backend, for many enrollments
// instead of one each.
//
// Thread safety: Submit may be called from any thread. Callbacks run on the batcher's thread and
// must not block (hand blocking work to another thread).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "store/challenge_creation.h"

namespace keyline::store {

struct ChallengeBatcherOptions {
  std::string database_url;  // the service's (least-privilege) connection string
  size_t max_batch = 256;    // requests per statement at most
  size_t max_queue = 16384;  // Submit fails with ResourceExhausted beyond this many waiting
};

class ChallengeBatcher {
 public:
  using Done = std::function<void(absl::StatusOr<DeviceWithChallenge>)>;

  // Connects and starts the thread. Unavailable when the database cannot be reached.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ChallengeBatcher>> Start(
      const ChallengeBatcherOptions& options);

  // Stops accepting requests, answers what is queued, joins the thread.
  virtual ~ChallengeBatcher() = default;

  // `done` gets what EnrollmentRepository::FindDeviceAndCreateChallenge returns for this request:
  // the device (NotFound when there is none) and whether the challenge was stored; AlreadyExists
  // when its id is taken; Unavailable when the database failed (the connection is opened again
  // for the next batch). InvalidArgument for a request that cannot be stored (ValidateChallenge),
  // ResourceExhausted when the queue is full and Unavailable once shutting down reach `done`
  // before Submit returns.
  virtual void Submit(ChallengeRequest request, Done done) = 0;
};

}  // namespace keyline::store
