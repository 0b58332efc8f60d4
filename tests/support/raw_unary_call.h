// One unary call whose request message is given as bytes, as they go on the wire (gRPC's length
// prefix added): for requests no generated stub would send (empty, malformed, oversized).
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/support/slice.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <memory>
#include <string>

namespace keyline::testing {

// `method` is the full path, e.g. "/keyline.v1.EnrollmentService/BeginEnrollment". The slice is
// shared with gRPC, not copied.
[[nodiscard]] grpc::Status CallUnaryWithRawRequest(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
    const grpc::Slice& request, std::chrono::seconds deadline = std::chrono::seconds(30));

}  // namespace keyline::testing
