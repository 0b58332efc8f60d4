// The shape every unary handler shares: authorize the caller on gRPC's thread, then run the work
// (which may block on PostgreSQL or sign batches in the HSM) on the blocking executor, and finish
// with its status. A failed call returns an empty response.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/support/server_callback.h>

#include <optional>
#include <string_view>
#include <utility>

#include "provisioning/grpc_status.h"
#include "provisioning/service_context.h"

namespace keyline::provisioning {

// The caller of `method`, or nullopt once `reactor` has been finished with the refusal.
inline std::optional<Caller> AuthorizeOrFinish(const ServiceContext& services,
                                               grpc::CallbackServerContext* context,
                                               std::string_view method,
                                               grpc::ServerUnaryReactor* reactor) {
  absl::StatusOr<Caller> caller =
      services.authenticator->Authorize(context->auth_context().get(), method);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return std::nullopt;
  }
  return *std::move(caller);
}

// `work` is callable as absl::Status(const Caller&).
template <typename Work>
grpc::ServerUnaryReactor* RunUnaryCall(const ServiceContext& services,
                                       grpc::CallbackServerContext* context,
                                       std::string_view method,
                                       google::protobuf::Message* response, Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::optional<Caller> caller = AuthorizeOrFinish(services, context, method, reactor);
  if (!caller) return reactor;
  services.executor->Run(
      [caller = *std::move(caller), work = std::move(work), response, reactor]() mutable {
        const absl::Status status = work(caller);
        if (!status.ok()) response->Clear();
        reactor->Finish(ToGrpcStatus(status));
      });
  return reactor;
}

}  // namespace keyline::provisioning
