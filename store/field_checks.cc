#include "store/field_checks.h"

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/utf8.h"

namespace keyline::store {

std::string IndexedField(std::string_view list, size_t index, std::string_view field) {
  return absl::StrCat(AsAbsl(list), "[", index, "]", field.empty() ? "" : ".", AsAbsl(field));
}

absl::Status CheckText(std::string_view text, std::string_view field) {
  if (text.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": contains a NUL character"));
  }
  if (!IsValidUtf8(text)) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::Status CheckNonEmptyText(std::string_view text, std::string_view field) {
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": empty"));
  return CheckText(text, field);
}

absl::Status CheckNonEmptyBytes(std::string_view bytes, std::string_view field) {
  if (bytes.empty()) return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": empty"));
  return absl::OkStatus();
}

absl::Status CheckByteCount(std::string_view bytes, size_t size, std::string_view field) {
  if (bytes.size() != size) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(field), ": must be ", size, " bytes, not ", bytes.size()));
  }
  return absl::OkStatus();
}

}  // namespace keyline::store
