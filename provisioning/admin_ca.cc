// AdminService.RotateDeploymentCa: a deployment's next CA (server/ca_rotation.h
// does the work).
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "provisioning/admin_service.h"
#include "provisioning/proto_conversions.h"
#include "provisioning/unary_call.h"

namespace keyline::provisioning {
namespace {

constexpr std::string_view kRotateDeploymentCa = "/keyline.v1.AdminService/RotateDeploymentCa";

void ToProto(const store::CaRecord& record, keyline::v1::CertificateAuthority* out) {
  out->set_id(record.id);
  out->set_name(record.name);
  out->set_deployment(record.deployment.value_or(""));
  out->set_status(record.status);
  out->set_certificate(record.certificate_der);
  out->set_key_label(record.key_label);
  ToTimestamp(record.not_before, out->mutable_not_before());
  ToTimestamp(record.not_after, out->mutable_not_after());
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::RotateDeploymentCa(
    grpc::CallbackServerContext* context, const keyline::v1::RotateDeploymentCaRequest* request,
    keyline::v1::RotateDeploymentCaResponse* response) {
  return RunUnaryCall(
      context_, context, kRotateDeploymentCa, response,
      [this, request, response](const Caller& caller) -> absl::Status {
        const std::string& deployment = request->deployment();
        if (deployment.empty()) return absl::InvalidArgumentError("deployment: required");
        if (!context_.cas->HasDeployment(deployment)) {
          return absl::NotFoundError(
              absl::StrCat("deployment: \"", deployment, "\" has no CA on this server"));
        }
        if (!context_.rotate_deployment_ca) {
          return absl::UnimplementedError("CA rotation is not available on this server");
        }
        KEYLINE_ASSIGN_OR_RETURN(const CaRotation rotation,
                                 context_.rotate_deployment_ca(deployment, caller.uri));
        ToProto(rotation.active, response->mutable_active());
        ToProto(rotation.retired, response->mutable_retired());
        return absl::OkStatus();
      });
}

}  // namespace keyline::provisioning
