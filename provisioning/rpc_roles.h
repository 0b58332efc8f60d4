// Which operator roles may call which RPC: the whole authorization policy in one table, so that
// a reviewer (and the table-driven test) sees every RPC and its roles together. An RPC missing
// from the table is refused for everyone.
#pragma once

#include <string_view>
#include <vector>

#include "ca/operator_identity.h"

namespace keyline::provisioning {

struct RpcRoles {
  std::string_view method;  // "/keyline.v1.AdminService/IssueOperatorCertificate"
  std::vector<ca::OperatorRole> allowed;
};

const std::vector<RpcRoles>& RpcRoleTable();

// The roles allowed to call `method` (empty when the method is not in the table).
const std::vector<ca::OperatorRole>& AllowedRoles(std::string_view method);

}  // namespace keyline::provisioning
