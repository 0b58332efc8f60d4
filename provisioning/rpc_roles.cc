#include "provisioning/rpc_roles.h"

namespace keyline::provisioning {

const std::vector<RpcCallers>& RpcCallerTable() {
  using enum CallerKind;
  static const auto* const table = new std::vector<RpcCallers>{
      {"/keyline.v1.AdminService/IssueOperatorCertificate", {kAdmin}},
      {"/keyline.v1.AdminService/AddManufacturer", {kAdmin}},
      {"/keyline.v1.AdminService/ListManufacturers", {kAdmin}},
      {"/keyline.v1.AdminService/RevokeManufacturer", {kAdmin}},
      {"/keyline.v1.AdminService/ClaimDevices", {kAdmin}},
      {"/keyline.v1.AdminService/ValidateClaim", {kAdmin}},
      {"/keyline.v1.AdminService/ExportVouchers", {kAdmin}},
      {"/keyline.v1.AdminService/ImportVouchers", {kAdmin}},
      {"/keyline.v1.AdminService/GetDevice", {kAdmin}},
      {"/keyline.v1.AdminService/DecommissionDevice", {kAdmin}},
      {"/keyline.v1.AdminService/Revoke", {kAdmin}},
      {"/keyline.v1.AdminService/RevokeWithProgress", {kAdmin}},
      {"/keyline.v1.AdminService/RotateDeploymentCa", {kAdmin}},
      {"/keyline.v1.AdminService/ReadAuditLog", {kAdmin}},
      {"/keyline.v1.AdminService/ListAuditCheckpoints", {kAdmin}},
      {"/keyline.v1.FactoryService/IssueAttestationCertificates", {kFactory}},
      {"/keyline.v1.FactoryService/RegisterDevices", {kFactory}},
      // A device on first contact has no client certificate; a gateway relays for devices.
      {"/keyline.v1.EnrollmentService/BeginEnrollment", {kAnonymous, kGateway, kDevice}},
      {"/keyline.v1.EnrollmentService/CompleteEnrollment", {kAnonymous, kGateway}},
      {"/keyline.v1.EnrollmentService/Renew", {kDevice}},
  };
  return *table;
}

const std::vector<CallerKind>& AllowedCallers(std::string_view method) {
  static const auto* const none = new std::vector<CallerKind>{};
  for (const auto& entry : RpcCallerTable()) {
    if (entry.method == method) return entry.allowed;
  }
  return *none;
}

}  // namespace keyline::provisioning
