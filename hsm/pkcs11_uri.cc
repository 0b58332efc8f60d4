#include "hsm/pkcs11_uri.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::hsm {
namespace {

constexpr std::string_view kScheme = "pkcs11:";

// RFC 7512 section 2.3: characters allowed unescaped besides RFC 3986 "unreserved".
constexpr std::string_view kPathSpecials = ":[]@!$'()*+,=&";
constexpr std::string_view kQuerySpecials = ":[]@!$'()*+,=/?|";

bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes one attribute value, refusing characters the grammar does not allow unescaped
// (a literal ';' or '?' would already have split the value, so it cannot appear here).
absl::StatusOr<std::string> Decode(std::string_view name, std::string_view value,
                                   std::string_view specials) {
  std::string decoded;
  decoded.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '%') {
      const int high = i + 2 < value.size() ? HexDigit(value[i + 1]) : -1;
      const int low = i + 2 < value.size() ? HexDigit(value[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("pkcs11 URI attribute ", AsAbsl(name), ": bad percent-encoding"));
      }
      decoded.push_back(static_cast<char>((high << 4) | low));
      i += 2;
    } else if (IsUnreserved(c) || specials.find(c) != std::string_view::npos) {
      decoded.push_back(c);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("pkcs11 URI attribute ", AsAbsl(name),
                                                     ": character must be percent-encoded"));
    }
  }
  return decoded;
}

// Stores a decoded value into its field, refusing a second occurrence.
absl::Status Assign(std::optional<std::string>& field, std::string_view name, std::string value) {
  if (field.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pkcs11 URI attribute ", AsAbsl(name), ": given more than once"));
  }
  field = std::move(value);
  return absl::OkStatus();
}

std::optional<std::string>* PathField(Pkcs11Uri& uri, std::string_view name) {
  if (name == "token") return &uri.token;
  if (name == "manufacturer") return &uri.manufacturer;
  if (name == "serial") return &uri.serial;
  if (name == "model") return &uri.model;
  if (name == "object") return &uri.object;
  if (name == "id") return &uri.id;
  if (name == "type") return &uri.type;
  return nullptr;
}

std::optional<std::string>* QueryField(Pkcs11Uri& uri, std::string_view name) {
  if (name == "module-path") return &uri.module_path;
  if (name == "module-name") return &uri.module_name;
  if (name == "pin-source") return &uri.pin_source;
  return nullptr;
}

// Parses `list` (attributes separated by `separator`) into `uri`. Unknown attributes are refused
// in the query too: a misspelt module-path must not silently load the default module.
absl::Status ParseAttributes(std::string_view list, char separator, bool is_query, Pkcs11Uri& uri) {
  const std::string_view part = is_query ? "query" : "path";
  while (!list.empty()) {
    const size_t end = list.find(separator);
    const std::string_view attribute = list.substr(0, end);
    list = end == std::string_view::npos ? std::string_view() : list.substr(end + 1);
    if (end != std::string_view::npos && list.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("pkcs11 URI ", AsAbsl(part), ": ends with a separator"));
    }
    const size_t equals = attribute.find('=');
    if (attribute.empty() || equals == std::string_view::npos || equals == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("pkcs11 URI ", AsAbsl(part),
                       ": \"name=value\" expected, got an empty or unnamed "
                       "attribute"));
    }
    const std::string_view name = attribute.substr(0, equals);
    if (name == "pin-value") {
      return absl::InvalidArgumentError(
          "pkcs11 URI attribute pin-value: PINs are not accepted in configuration; use "
          "pin-source=file:/path or pin-source=env:NAME");
    }
    std::optional<std::string>* field = is_query ? QueryField(uri, name) : PathField(uri, name);
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("pkcs11 URI ", AsAbsl(part), " attribute ",
                                                     AsAbsl(name), ": unknown or unsupported"));
    }
    absl::StatusOr<std::string> value =
        Decode(name, attribute.substr(equals + 1), is_query ? kQuerySpecials : kPathSpecials);
    if (!value.ok()) return value.status();
    if (absl::Status status = Assign(*field, name, *std::move(value)); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Pkcs11Uri> ParsePkcs11Uri(std::string_view uri) {
  // RFC 3986 section 3.1: schemes are case-insensitive.
  if (!absl::StartsWithIgnoreCase(AsAbsl(uri), AsAbsl(kScheme))) {
    return absl::InvalidArgumentError("pkcs11 URI: must start with \"pkcs11:\"");
  }
  const std::string_view rest = uri.substr(kScheme.size());
  const size_t question = rest.find('?');
  const std::string_view path = rest.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);

  Pkcs11Uri parsed;
  if (absl::Status status = ParseAttributes(path, ';', /*is_query=*/false, parsed); !status.ok()) {
    return status;
  }
  if (absl::Status status = ParseAttributes(query, '&', /*is_query=*/true, parsed); !status.ok()) {
    return status;
  }
  if (parsed.type.has_value() && *parsed.type != "private" && *parsed.type != "public" &&
      *parsed.type != "cert" && *parsed.type != "secret-key" && *parsed.type != "data") {
    return absl::InvalidArgumentError(
        absl::StrCat("pkcs11 URI attribute type: \"", *parsed.type,
                     "\" is not one of private, public, cert, secret-key, data"));
  }
  return parsed;
}

}  // namespace keyline::hsm
