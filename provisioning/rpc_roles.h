// Which callers may call which RPC: the whole authorization policy in one table, so that a
// reviewer (and the table-driven test) sees every RPC and who may call it. An RPC missing from
// the table is refused for everyone.
#pragma once

#include <string_view>
#include <vector>

#include "provisioning/caller_authenticator.h"

namespace keyline::provisioning {

struct RpcCallers {
  std::string_view method;  // "/keyline.v1.AdminService/IssueOperatorCertificate"
  std::vector<CallerKind> allowed;
};

const std::vector<RpcCallers>& RpcCallerTable();

// The callers allowed to call `method` (empty when the method is not in the table).
const std::vector<CallerKind>& AllowedCallers(std::string_view method);

}  // namespace keyline::provisioning
