// AdminService (proto/keyline/v1/admin.proto): what security admins do through keylinectl.
// Callback API: handlers check the caller and the request on gRPC's thread, sign there, and
// finish when the group-commit writer reports the rows durable, so no thread waits on the disk.
#pragma once

#include "ca/issuing_ca.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "provisioning/certificate_issuance.h"
#include "provisioning/operator_authenticator.h"

namespace keyline::provisioning {

class AdminServiceImpl final : public keyline::v1::AdminService::CallbackService {
 public:
  AdminServiceImpl(OperatorAuthenticator& authenticator, CertificateIssuance& issuance,
                   const ca::IssuingCa& operator_ca)
      : authenticator_(authenticator), issuance_(issuance), operator_ca_(operator_ca) {}

  grpc::ServerUnaryReactor* IssueOperatorCertificate(
      grpc::CallbackServerContext* context,
      const keyline::v1::IssueOperatorCertificateRequest* request,
      keyline::v1::IssueOperatorCertificateResponse* response) override;

 private:
  OperatorAuthenticator& authenticator_;
  CertificateIssuance& issuance_;
  const ca::IssuingCa& operator_ca_;
};

}  // namespace keyline::provisioning
