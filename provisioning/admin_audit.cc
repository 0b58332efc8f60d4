// AdminService: reading the audit log and its signed checkpoints (keylinectl audit verify|tail
// recompute the chain on the admin's side).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "provisioning/admin_service.h"
#include "provisioning/proto_conversions.h"
#include "provisioning/unary_call.h"
#include "store/timestamps.h"

namespace keyline::provisioning {
namespace {

constexpr std::string_view kRead = "/keyline.v1.AdminService/ReadAuditLog";
constexpr std::string_view kCheckpoints = "/keyline.v1.AdminService/ListAuditCheckpoints";
// Rows a call returns at most; callers page with after_seq.
constexpr size_t kMaxRowsPerCall = 10000;

void ToProto(const store::AuditRow& row, keyline::v1::AuditRecord* record) {
  record->set_seq(row.seq);
  ToTimestamp(row.occurred_at, record->mutable_occurred_at());
  record->set_occurred_at_text(store::FormatRfc3339Micros(row.occurred_at));
  record->set_actor(row.event.actor);
  record->set_action(row.event.action);
  record->set_target(row.event.target);
  record->set_details_json(row.event.details.dump());
  record->set_prev_hash(row.prev_hash);
  record->set_row_hash(row.row_hash);
}

// Streams the rows it loaded on the executor, one write at a time; deletes itself when done.
class AuditLogStream final : public grpc::ServerWriteReactor<keyline::v1::AuditRecord> {
 public:
  AuditLogStream(const ServiceContext& services, grpc::CallbackServerContext* context,
                 const keyline::v1::ReadAuditLogRequest* request) {
    auto caller = services.authenticator->Authorize(context->auth_context().get(), kRead);
    if (!caller.ok()) {
      Finish(ToGrpcStatus(caller.status()));
      return;
    }
    services.executor->Run([this, &services, request] {
      const absl::Status status = Load(services, *request);
      if (!status.ok()) return Finish(ToGrpcStatus(status));
      WriteNext();
    });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  absl::Status Load(const ServiceContext& services, const keyline::v1::ReadAuditLogRequest& request) {
    if (request.after_seq() < 0) return absl::InvalidArgumentError("after_seq: negative");
    if (request.limit() < 0) return absl::InvalidArgumentError("limit: negative");
    const size_t limit = request.limit() == 0
                             ? kMaxRowsPerCall
                             : std::min(kMaxRowsPerCall, static_cast<size_t>(request.limit()));
    int64_t after = request.after_seq();
    if (request.newest_first()) {
      KEYLINE_ASSIGN_OR_RETURN(const auto head, services.audit_log->ReadHead());
      after = std::max<int64_t>(after, head.seq - static_cast<int64_t>(limit));
    }
    KEYLINE_ASSIGN_OR_RETURN(rows_, services.audit_log->ReadRows(after, limit));
    if (request.newest_first()) std::reverse(rows_.begin(), rows_.end());
    return absl::OkStatus();
  }

  void WriteNext() {
    if (next_ == rows_.size()) return Finish(grpc::Status::OK);
    ToProto(rows_[next_++], &record_);
    StartWrite(&record_);
  }

  std::vector<store::AuditRow> rows_;
  size_t next_ = 0;
  keyline::v1::AuditRecord record_;
};

}  // namespace

grpc::ServerWriteReactor<keyline::v1::AuditRecord>* AdminServiceImpl::ReadAuditLog(
    grpc::CallbackServerContext* context, const keyline::v1::ReadAuditLogRequest* request) {
  return new AuditLogStream(context_, context, request);
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListAuditCheckpoints(
    grpc::CallbackServerContext* context, const keyline::v1::ListAuditCheckpointsRequest*,
    keyline::v1::ListAuditCheckpointsResponse* response) {
  return RunUnaryCall(context_, context, kCheckpoints, response, [this, response](const Caller&) {
    KEYLINE_ASSIGN_OR_RETURN(const auto checkpoints, context_.audit_checkpoints->List());
    for (const auto& checkpoint : checkpoints) {
      auto* message = response->add_checkpoints();
      message->set_seq(checkpoint.seq);
      message->set_row_hash(checkpoint.row_hash);
      message->set_signature(checkpoint.signature);
      ToTimestamp(checkpoint.created_at, message->mutable_created_at());
      if (checkpoint.signed_at) ToTimestamp(*checkpoint.signed_at, message->mutable_signed_at());
    }
    response->set_audit_certificate(context_.audit_certificate_der);
    return absl::OkStatus();
  });
}

}  // namespace keyline::provisioning
