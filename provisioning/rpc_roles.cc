#include "provisioning/rpc_roles.h"

namespace keyline::provisioning {

using ca::OperatorRole;

const std::vector<RpcRoles>& RpcRoleTable() {
  static const auto* const table = new std::vector<RpcRoles>{
      {"/keyline.v1.AdminService/IssueOperatorCertificate", {OperatorRole::kAdmin}},
  };
  return *table;
}

const std::vector<ca::OperatorRole>& AllowedRoles(std::string_view method) {
  static const auto* const none = new std::vector<ca::OperatorRole>{};
  for (const auto& entry : RpcRoleTable()) {
    if (entry.method == method) return entry.allowed;
  }
  return *none;
}

}  // namespace keyline::provisioning
