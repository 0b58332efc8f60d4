#include "provisioning/revoke_progress_stream.h"

#include <utility>

#include "provisioning/grpc_status.h"

namespace keyline::provisioning {
namespace {

constexpr absl::Duration kReportInterval = absl::Milliseconds(100);

}  // namespace

RevokeProgressStream::RevokeProgressStream(const ServiceContext& services,
                                           grpc::CallbackServerContext* context,
                                           std::string_view method, Work work)
    : context_(context) {
  auto caller = services.authenticator->Authorize(context->auth_context().get(), method);
  if (!caller.ok()) {
    finished_ = true;
    Finish(ToGrpcStatus(caller.status()));
    return;
  }
  services.executor->Run([this, caller = *std::move(caller), work = std::move(work)] {
    keyline::v1::RevokeProgress result;
    const absl::Status status =
        work(caller, result.mutable_result(),
             [this](const store::RevocationProgress& progress) { return Report(progress); });
    {
      std::lock_guard lock(mutex_);
      work_done_ = true;
      if (status.ok()) {
        pending_ = std::move(result);
      } else {
        pending_.reset();  // a step still waiting is stale once the batch failed
        final_status_ = ToGrpcStatus(status);
      }
    }
    Pump();
  });
}

bool RevokeProgressStream::Report(const store::RevocationProgress& progress) {
  if (context_->IsCancelled()) return false;
  const absl::Time now = absl::Now();
  {
    std::lock_guard lock(mutex_);
    if (client_gone_) return false;
    if (progress.step == last_step_ && now - last_report_ < kReportInterval) return true;
    last_step_ = progress.step;
    last_report_ = now;
    keyline::v1::RevokeProgress message;
    keyline::v1::RevokeStep* step = message.mutable_step();
    step->set_step(std::string(store::RevocationStepName(progress.step)));
    step->set_done(static_cast<int64_t>(progress.done));
    step->set_total(static_cast<int64_t>(progress.total));
    pending_ = std::move(message);
  }
  Pump();
  return true;
}

void RevokeProgressStream::OnWriteDone(bool ok) {
  {
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (!ok) {
      client_gone_ = true;
      pending_.reset();
    }
  }
  Pump();
}

void RevokeProgressStream::Pump() {
  enum class Action { kNone, kWrite, kFinish } action = Action::kNone;
  grpc::Status status;
  {
    std::lock_guard lock(mutex_);
    if (writing_ || finished_) return;
    if (pending_ && !client_gone_) {
      in_flight_ = *std::move(pending_);
      pending_.reset();
      writing_ = true;
      action = Action::kWrite;
    } else if (work_done_) {
      finished_ = true;
      status = client_gone_ ? grpc::Status(grpc::StatusCode::CANCELLED, "client went away")
                            : final_status_;
      action = Action::kFinish;
    }
  }
  if (action == Action::kWrite) StartWrite(&in_flight_);
  if (action == Action::kFinish) Finish(status);
}

}  // namespace keyline::provisioning
