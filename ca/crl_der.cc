#include "ca/crl_der.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "ca/revocation_reason.h"
#include "common/absl_compat.h"
#include "common/der_writer.h"
#include "common/utc_civil_time.h"

namespace keyline::ca {
namespace {

// Writes tag, length and "[YY]YYMMDDHHMMSSZ"; returns the end.
char* WriteTime(char* out, absl::Time time, bool force_generalized) {
  const UtcCivilSecond civil = ToUtcCivil(absl::ToUnixSeconds(time));
  const bool utc = !force_generalized && civil.year >= 1950 && civil.year <= 2049;
  *out++ = static_cast<char>(utc ? der::kUtcTime : der::kGeneralizedTime);
  *out++ = static_cast<char>(utc ? 13 : 15);
  return der::WriteTimeText(out, civil, /*four_digit_year=*/!utc);
}

char* WriteBytes(char* out, std::initializer_list<uint8_t> bytes) {
  for (uint8_t byte : bytes) *out++ = static_cast<char>(byte);
  return out;
}

}  // namespace

absl::Status CheckCrlReason(int reason, std::string_view field) {
  if (reason < 0 || reason > 10 || reason == 7) {
    return absl::InvalidArgumentError(absl::StrCat(
        AsAbsl(field), ": ", reason, " is not a CRLReason (RFC 5280 5.3.1: 0-10 except 7)"));
  }
  return absl::OkStatus();
}

absl::Status CheckCrlTime(absl::Time time, std::string_view field) {
  if (!der::IsEncodableTime(time)) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(field), ": outside the years 0001-9999 a Time can encode"));
  }
  return absl::OkStatus();
}

absl::Status SerialIntegerContent(std::string_view magnitude, std::string_view field,
                                  std::string* content) {
  if (magnitude.empty()) return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": empty"));
  const size_t first = magnitude.find_first_not_of('\0');
  if (first == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(field), ": zero (serial numbers are positive, RFC 5280 4.1.2.2)"));
  }
  magnitude.remove_prefix(first);
  if (magnitude.size() > kMaxSerialOctets) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(field), ": longer than 20 octets (RFC 5280 4.1.2.2)"));
  }
  content->clear();
  if (static_cast<unsigned char>(magnitude.front()) & 0x80) content->push_back('\0');
  content->append(magnitude);
  return absl::OkStatus();
}

std::string DistributionPointName(std::string_view url) {
  return der::Tlv(der::ContextConstructed(0),
                  der::Tlv(der::ContextConstructed(0), der::Tlv(der::ContextPrimitive(6), url)));
}

std::string DerUnsignedInteger(uint64_t value) {
  std::string content;
  for (int shift = 56; shift >= 0; shift -= 8) {
    const auto byte = static_cast<char>((value >> shift) & 0xff);
    if (content.empty() && byte == 0 && shift > 0) continue;
    if (content.empty() && (static_cast<unsigned char>(byte) & 0x80)) content.push_back('\0');
    content.push_back(byte);
  }
  return der::Tlv(der::kInteger, content);
}

void AppendCrlTime(std::string& out, absl::Time time) {
  char buffer[17];
  const char* end = WriteTime(buffer, time, /*force_generalized=*/false);
  out.append(buffer, static_cast<size_t>(end - buffer));
}

size_t EncodeRevokedEntry(std::string_view serial_content, absl::Time revoked_at,
                          int reason, std::optional<absl::Time> invalidity_date,
                          char (&out)[kMaxRevokedEntryBytes]) {
  char* cursor = out + 2;  // SEQUENCE header, filled in last
  *cursor++ = static_cast<char>(der::kInteger);
  *cursor++ = static_cast<char>(serial_content.size());
  std::memcpy(cursor, serial_content.data(), serial_content.size());
  cursor += serial_content.size();
  cursor = WriteTime(cursor, revoked_at, /*force_generalized=*/false);

  const bool has_reason = reason != kUnspecified;
  if (has_reason || invalidity_date.has_value()) {
    char* extensions = cursor;
    cursor += 2;  // SEQUENCE OF Extension header
    if (has_reason) {
      // Extension { id-ce-cRLReasons 2.5.29.21, OCTET STRING { ENUMERATED reason } }
      cursor = WriteBytes(cursor, {der::kSequence, 10, 0x06, 3, 0x55, 0x1d, 0x15, der::kOctetString,
                                   3, der::kEnumerated, 1, static_cast<uint8_t>(reason)});
    }
    if (invalidity_date.has_value()) {
      // Extension { id-ce-invalidityDate 2.5.29.24, OCTET STRING { GeneralizedTime } }
      cursor = WriteBytes(cursor,
                          {der::kSequence, 24, 0x06, 3, 0x55, 0x1d, 0x18, der::kOctetString, 17});
      cursor = WriteTime(cursor, *invalidity_date, /*force_generalized=*/true);
    }
    extensions[0] = static_cast<char>(der::kSequence);
    extensions[1] = static_cast<char>(cursor - extensions - 2);
  }
  out[0] = static_cast<char>(der::kSequence);
  out[1] = static_cast<char>(cursor - out - 2);
  return static_cast<size_t>(cursor - out);
}

}  // namespace keyline::ca
