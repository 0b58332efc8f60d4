// The reactor behind AdminService.RevokeWithProgress: authorizes the caller, runs the batch on the
// blocking executor and streams where it is, then the result.
//
// At most one write is in flight. Steps that arrive meanwhile replace each other (only the newest
// matters to a progress bar) and are sent at most every 100 ms within a step; the result is never
// dropped and is always the last message. A failed batch ends the stream with its status and no
// result. When the client goes away, the next progress report stops the batch, which then rolls
// back (store::RevocationRequest::progress). Deletes itself when gRPC is done with it.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "keyline/v1/admin.pb.h"
#include "provisioning/service_context.h"
#include "store/revocation_repository.h"

namespace keyline::provisioning {

class RevokeProgressStream final : public grpc::ServerWriteReactor<keyline::v1::RevokeProgress> {
 public:
  // Fills the response, reporting through the callback; returns the batch's status.
  using Work = std::function<absl::Status(const Caller&, keyline::v1::RevokeResponse*,
                                          store::RevocationProgressCallback)>;

  RevokeProgressStream(const ServiceContext& services, grpc::CallbackServerContext* context,
                       std::string_view method, Work work);

  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  // Called on the executor's thread; false once the client is gone.
  bool Report(const store::RevocationProgress& progress);
  // Starts the next write, or finishes once the work is done and nothing is left to send. Takes
  // the lock itself; gRPC is called without it.
  void Pump();

  grpc::CallbackServerContext* const context_;

  std::mutex mutex_;
  // Guarded by mutex_:
  std::optional<keyline::v1::RevokeProgress> pending_;
  bool writing_ = false;
  bool client_gone_ = false;
  bool work_done_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
  store::RevocationProgress::Step last_step_ = store::RevocationProgress::Step::kLocking;
  absl::Time last_report_ = absl::InfinitePast();

  keyline::v1::RevokeProgress in_flight_;  // owned by the one write in flight
};

}  // namespace keyline::provisioning
