// AdminService (proto/keyline/v1/admin.proto): what security admins do through keylinectl.
// Every RPC requires the admin role. The handlers live in several files by subject:
// admin_service.cc (operators), admin_manufacturers.cc, admin_devices.cc, admin_revocation.cc,
// admin_audit.cc.
#pragma once

#include "keyline/v1/admin.grpc.pb.h"
#include "provisioning/service_context.h"

namespace keyline::provisioning {

class AdminServiceImpl final : public keyline::v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(const ServiceContext& context) : context_(context) {}

  grpc::ServerUnaryReactor* IssueOperatorCertificate(
      grpc::CallbackServerContext* context,
      const keyline::v1::IssueOperatorCertificateRequest* request,
      keyline::v1::IssueOperatorCertificateResponse* response) override;

  grpc::ServerUnaryReactor* AddManufacturer(grpc::CallbackServerContext* context,
                                            const keyline::v1::AddManufacturerRequest* request,
                                            keyline::v1::Manufacturer* response) override;
  grpc::ServerUnaryReactor* ListManufacturers(
      grpc::CallbackServerContext* context, const keyline::v1::ListManufacturersRequest* request,
      keyline::v1::ListManufacturersResponse* response) override;
  grpc::ServerUnaryReactor* RevokeManufacturer(
      grpc::CallbackServerContext* context, const keyline::v1::RevokeManufacturerRequest* request,
      keyline::v1::Manufacturer* response) override;

  grpc::ServerUnaryReactor* ClaimDevices(grpc::CallbackServerContext* context,
                                         const keyline::v1::ClaimDevicesRequest* request,
                                         keyline::v1::ClaimDevicesResponse* response) override;
  grpc::ServerUnaryReactor* ValidateClaim(grpc::CallbackServerContext* context,
                                          const keyline::v1::ClaimDevicesRequest* request,
                                          keyline::v1::ClaimDevicesResponse* response) override;
  grpc::ServerUnaryReactor* ExportVouchers(grpc::CallbackServerContext* context,
                                           const keyline::v1::ExportVouchersRequest* request,
                                           keyline::v1::VoucherBundle* response) override;
  grpc::ServerUnaryReactor* ImportVouchers(grpc::CallbackServerContext* context,
                                           const keyline::v1::ImportVouchersRequest* request,
                                           keyline::v1::ImportVouchersResponse* response) override;
  grpc::ServerUnaryReactor* GetDevice(grpc::CallbackServerContext* context,
                                      const keyline::v1::GetDeviceRequest* request,
                                      keyline::v1::Device* response) override;
  grpc::ServerUnaryReactor* DecommissionDevice(
      grpc::CallbackServerContext* context, const keyline::v1::DecommissionDeviceRequest* request,
      keyline::v1::Device* response) override;
  grpc::ServerUnaryReactor* Revoke(grpc::CallbackServerContext* context,
                                   const keyline::v1::RevokeRequest* request,
                                   keyline::v1::RevokeResponse* response) override;
  grpc::ServerWriteReactor<keyline::v1::RevokeProgress>* RevokeWithProgress(
      grpc::CallbackServerContext* context, const keyline::v1::RevokeRequest* request) override;

  grpc::ServerUnaryReactor* RotateDeploymentCa(
      grpc::CallbackServerContext* context, const keyline::v1::RotateDeploymentCaRequest* request,
      keyline::v1::RotateDeploymentCaResponse* response) override;

  grpc::ServerWriteReactor<keyline::v1::AuditRecord>* ReadAuditLog(
      grpc::CallbackServerContext* context,
      const keyline::v1::ReadAuditLogRequest* request) override;
  grpc::ServerUnaryReactor* ListAuditCheckpoints(
      grpc::CallbackServerContext* context,
      const keyline::v1::ListAuditCheckpointsRequest* request,
      keyline::v1::ListAuditCheckpointsResponse* response) override;

 private:
  absl::Status IssueOperator(const Caller& caller,
                             const keyline::v1::IssueOperatorCertificateRequest& request,
                             keyline::v1::IssueOperatorCertificateResponse* response,
                             grpc::ServerUnaryReactor* reactor);
  // ClaimDevices, or with `validate_only` ValidateClaim: every check, no voucher, no change.
  absl::Status Claim(const Caller& caller, const keyline::v1::ClaimDevicesRequest& request,
                     keyline::v1::ClaimDevicesResponse* response, bool validate_only);
  absl::Status Import(const Caller& caller, const keyline::v1::ImportVouchersRequest& request,
                      keyline::v1::ImportVouchersResponse* response);
  // The device as GetDevice shows it: looked up by serial, or from a record already read.
  absl::Status DescribeDevice(const std::string& serial, keyline::v1::Device* response);
  absl::Status DescribeDevice(const store::DeviceRecord& device, keyline::v1::Device* response);
  // `progress` as store::RevocationRequest::progress (may be empty).
  absl::Status RevokeTargets(const Caller& caller, const keyline::v1::RevokeRequest& request,
                             keyline::v1::RevokeResponse* response,
                             store::RevocationProgressCallback progress);

  const ServiceContext& context_;
};

}  // namespace keyline::provisioning
