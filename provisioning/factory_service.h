// FactoryService (proto/keyline/v1/factory.proto): line stations register devices as they are
// built. Role factory. Each batch is checked completely, then signed, then stored in one
// transaction with its audit events; any bad entry refuses the whole batch, naming its index.
#pragma once

#include "keyline/v1/factory.grpc.pb.h"
#include "provisioning/service_context.h"

namespace keyline::provisioning {

class FactoryServiceImpl final : public keyline::v1::FactoryService::CallbackService {
 public:
  explicit FactoryServiceImpl(const ServiceContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* IssueAttestationCertificates(
      grpc::CallbackServerContext* context,
      const keyline::v1::IssueAttestationCertificatesRequest* request,
      keyline::v1::IssueAttestationCertificatesResponse* response) override;

  grpc::ServerUnaryReactor* RegisterDevices(grpc::CallbackServerContext* context,
                                            const keyline::v1::RegisterDevicesRequest* request,
                                            keyline::v1::RegisterDevicesResponse* response) override;

 private:
  absl::Status IssueAttestation(const Caller& caller,
                                const keyline::v1::IssueAttestationCertificatesRequest& request,
                                keyline::v1::IssueAttestationCertificatesResponse* response);
  absl::Status Register(const Caller& caller, const keyline::v1::RegisterDevicesRequest& request,
                        keyline::v1::RegisterDevicesResponse* response);

  const ServiceContext& context_;
};

}  // namespace keyline::provisioning
