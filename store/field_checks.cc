#include "store/field_checks.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::store {

std::string IndexedField(std::string_view list, size_t index, std::string_view field) {
  return absl::StrCat(AsAbsl(list), "[", index, "]", field.empty() ? "" : ".", AsAbsl(field));
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<uint8_t>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code_point = 0;
    uint32_t minimum = 0;
    if ((lead & 0xe0) == 0xc0) {
      length = 2, code_point = lead & 0x1f, minimum = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3, code_point = lead & 0x0f, minimum = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4, code_point = lead & 0x07, minimum = 0x10000;
    } else {
      return false;  // a continuation byte without a lead, or 0xf8..0xff
    }
    if (text.size() - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto continuation = static_cast<uint8_t>(text[i + k]);
      if ((continuation & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (continuation & 0x3f);
    }
    if (code_point < minimum || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
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
