#include "provisioning/admin_service.h"

#include "ca/csr_policy.h"
#include "ca/profiles.h"
#include "provisioning/grpc_status.h"
#include "provisioning/proto_conversions.h"

namespace keyline::provisioning {
namespace {

constexpr std::string_view kIssueOperatorCertificate =
    "/keyline.v1.AdminService/IssueOperatorCertificate";

}  // namespace

// Not on the executor: it neither reads the database nor blocks (the writer finishes the call),
// so it runs on gRPC's thread like the hot path it is.
grpc::ServerUnaryReactor* AdminServiceImpl::IssueOperatorCertificate(
    grpc::CallbackServerContext* context,
    const keyline::v1::IssueOperatorCertificateRequest* request,
    keyline::v1::IssueOperatorCertificateResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto caller =
      context_.authenticator->Authorize(context->auth_context().get(), kIssueOperatorCertificate);
  const absl::Status status =
      caller.ok() ? IssueOperator(*caller, *request, response, reactor) : caller.status();
  if (!status.ok()) reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::Status AdminServiceImpl::IssueOperator(
    const Caller& caller, const keyline::v1::IssueOperatorCertificateRequest& request,
    keyline::v1::IssueOperatorCertificateResponse* response, grpc::ServerUnaryReactor* reactor) {
  // Every field is checked before anything is signed or stored.
  auto role = FromProtoRole(request.role());
  if (!role.ok()) return role.status();
  if (auto status = ca::ValidateOperatorName(request.name()); !status.ok()) return status;
  auto csr = ca::ParseAndCheckCsr(request.csr());
  if (!csr.ok()) return csr.status();

  auto job = std::make_shared<IssuanceJob>();
  job->issuer = context_.operator_ca;
  job->subject_key = std::move(csr->public_key);
  const ca::OperatorRole operator_role = *role;
  const std::string name = request.name();
  job->make_template = [operator_role, name](const ca::IssueContext& issue_context) {
    return ca::OperatorTemplate(issue_context, operator_role, name);
  };
  job->subject = ca::OperatorUri(operator_role, name);
  job->operator_record = store::OperatorRecord{std::string(ca::OperatorRoleName(operator_role)),
                                               name, caller.uri};
  job->audit.actor = caller.uri;
  job->audit.action = "operator.certificate.issued";
  job->audit.details = {{"role", ca::OperatorRoleName(operator_role)},
                        {"name", name},
                        {"key_type", csr->key_type}};

  context_.issuance->Issue(std::move(job),
                           [reactor, response](absl::StatusOr<IssuedCertificate> issued) {
                             if (!issued.ok()) return reactor->Finish(ToGrpcStatus(issued.status()));
                             ToProto(*issued, response->mutable_certificate());
                             reactor->Finish(grpc::Status::OK);
                           });
  return absl::OkStatus();
}

}  // namespace keyline::provisioning
