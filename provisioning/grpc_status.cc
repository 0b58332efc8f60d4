#include "provisioning/grpc_status.h"

#include <string>

namespace keyline::provisioning {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace keyline::provisioning
