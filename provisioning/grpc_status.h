// The one place where absl::Status becomes grpc::Status. The codes share their numbering
// (both follow google.rpc.Code); messages pass through, so they must already be safe to show a
// caller: they name the field and the problem, never keys, PINs or database details.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace keyline::provisioning {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace keyline::provisioning
