#include "ca/revocation_reason.h"

#include <array>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::ca {
namespace {

constexpr std::array<std::pair<int, std::string_view>, 10> kNames = {{
    {kUnspecified, "unspecified"},
    {kKeyCompromise, "keyCompromise"},
    {kCaCompromise, "cACompromise"},
    {kAffiliationChanged, "affiliationChanged"},
    {kSuperseded, "superseded"},
    {kCessationOfOperation, "cessationOfOperation"},
    {kCertificateHold, "certificateHold"},
    {kRemoveFromCrl, "removeFromCRL"},
    {kPrivilegeWithdrawn, "privilegeWithdrawn"},
    {kAaCompromise, "aACompromise"},
}};

}  // namespace

bool IsRevocationReasonAllowed(int code) {
  return (code >= kUnspecified && code <= kCessationOfOperation) || code == kPrivilegeWithdrawn ||
         code == kAaCompromise;
}

absl::StatusOr<int> ParseRevocationReason(std::string_view name, std::string_view field) {
  if (name.empty()) return kUnspecified;
  const std::string lowered = absl::AsciiStrToLower(AsAbsl(name));
  for (const auto& [code, known] : kNames) {
    if (absl::AsciiStrToLower(AsAbsl(known)) != lowered) continue;
    if (!IsRevocationReasonAllowed(code)) {
      return absl::InvalidArgumentError(absl::StrCat(
          AsAbsl(field), ": ", AsAbsl(known), " is not supported (revocation is permanent)"));
    }
    return code;
  }
  std::string allowed;
  for (const auto& [code, known] : kNames) {
    if (IsRevocationReasonAllowed(code)) absl::StrAppend(&allowed, allowed.empty() ? "" : ", ", AsAbsl(known));
  }
  return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": unknown reason \"",
                                                 AsAbsl(name), "\" (one of ", allowed, ")"));
}

std::string_view RevocationReasonName(int code) {
  for (const auto& [known_code, name] : kNames) {
    if (known_code == code) return name;
  }
  return "unknown";
}

}  // namespace keyline::ca
