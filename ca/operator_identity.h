// Operator identities: the role and name an operator certificate grants, written as the SAN URI
// urn:keyline:role:<role>:<name> (DESIGN.md, "Trust model") and read back on every RPC.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace keyline::ca {

enum class OperatorRole { kAdmin, kFactory, kGateway };

std::string_view OperatorRoleName(OperatorRole role);  // "admin", "factory", "gateway"

// InvalidArgument "role: unknown role 'x' (admin, factory or gateway)".
[[nodiscard]] absl::StatusOr<OperatorRole> ParseOperatorRole(std::string_view name);

// Names are 1 to 64 characters of [a-z0-9._-], starting with a letter or digit, so they fit a
// URI without escaping and cannot smuggle another ':'-separated part.
// InvalidArgument "name: empty" / "name: ... not allowed".
[[nodiscard]] absl::Status ValidateOperatorName(std::string_view name);

struct OperatorIdentity {
  OperatorRole role;
  std::string name;
};

std::string OperatorUri(OperatorRole role, std::string_view name);

// Parses urn:keyline:role:<role>:<name>; InvalidArgument for anything else.
[[nodiscard]] absl::StatusOr<OperatorIdentity> ParseOperatorUri(std::string_view uri);

}  // namespace keyline::ca
