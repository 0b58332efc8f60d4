#include "ca/operator_identity.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::ca {
namespace {

constexpr std::string_view kUriPrefix = "urn:keyline:role:";
constexpr size_t kMaxNameLength = 64;

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsNameChar(char c) { return IsNameStart(c) || c == '.' || c == '_' || c == '-'; }

}  // namespace

std::string_view OperatorRoleName(OperatorRole role) {
  switch (role) {
    case OperatorRole::kAdmin:
      return "admin";
    case OperatorRole::kFactory:
      return "factory";
    case OperatorRole::kGateway:
      return "gateway";
  }
  return "unknown";
}

absl::StatusOr<OperatorRole> ParseOperatorRole(std::string_view name) {
  for (OperatorRole role : {OperatorRole::kAdmin, OperatorRole::kFactory, OperatorRole::kGateway}) {
    if (OperatorRoleName(role) == name) return role;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "role: unknown role '", AsAbsl(name.substr(0, 32)), "' (admin, factory or gateway)"));
}

absl::Status ValidateOperatorName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("name: empty");
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: ", name.size(), " characters, at most ", kMaxNameLength, " allowed"));
  }
  if (!IsNameStart(name[0])) {
    return absl::InvalidArgumentError("name: must start with a lower-case letter or digit");
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return absl::InvalidArgumentError(
          "name: only lower-case letters, digits, '.', '_' and '-' are allowed");
    }
  }
  return absl::OkStatus();
}

std::string OperatorUri(OperatorRole role, std::string_view name) {
  return absl::StrCat(AsAbsl(kUriPrefix), AsAbsl(OperatorRoleName(role)), ":", AsAbsl(name));
}

absl::StatusOr<OperatorIdentity> ParseOperatorUri(std::string_view uri) {
  if (!absl::StartsWith(AsAbsl(uri), AsAbsl(kUriPrefix))) {
    return absl::InvalidArgumentError("not an operator URI");
  }
  const std::string_view rest = uri.substr(kUriPrefix.size());
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return absl::InvalidArgumentError("operator URI: no name");
  auto role = ParseOperatorRole(rest.substr(0, colon));
  if (!role.ok()) return role.status();
  const std::string_view name = rest.substr(colon + 1);
  if (auto status = ValidateOperatorName(name); !status.ok()) return status;
  return OperatorIdentity{*role, std::string(name)};
}

}  // namespace keyline::ca
