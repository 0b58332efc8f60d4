#include "ca/device_identity.h"

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::ca {
namespace {

constexpr size_t kMaxLength = 64;

absl::Status Problem(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": ", AsAbsl(what)));
}

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

absl::Status CheckLength(std::string_view value, std::string_view field) {
  if (value.empty()) return Problem(field, "empty");
  if (value.size() > kMaxLength) {
    return Problem(field, absl::StrCat(value.size(), " characters, at most ", kMaxLength));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateDeviceSerial(std::string_view serial, std::string_view field) {
  if (auto status = CheckLength(serial, field); !status.ok()) return status;
  if (!IsAsciiAlnum(serial[0])) return Problem(field, "must start with a letter or digit");
  for (char c : serial) {
    if (!IsAsciiAlnum(c) && c != '.' && c != '_' && c != '-') {
      return Problem(field, "only letters, digits, '.', '_' and '-' are allowed");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHardwareModel(std::string_view model, std::string_view field) {
  if (auto status = CheckLength(model, field); !status.ok()) return status;
  if (model.front() == ' ' || model.back() == ' ') {
    return Problem(field, "leading or trailing space");
  }
  for (char c : model) {
    if (c < 0x20 || c > 0x7e) return Problem(field, "only printable ASCII is allowed");
  }
  return absl::OkStatus();
}

absl::Status ValidateDeploymentName(std::string_view name, std::string_view field) {
  if (auto status = CheckLength(name, field); !status.ok()) return status;
  const auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) return Problem(field, "must start with a lower-case letter or digit");
  for (char c : name) {
    if (!lower_or_digit(c) && c != '.' && c != '_' && c != '-') {
      return Problem(field, "only lower-case letters, digits, '.', '_' and '-' are allowed");
    }
  }
  return absl::OkStatus();
}

}  // namespace keyline::ca
