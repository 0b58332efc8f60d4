#include "common/der_writer.h"

#include "common/utc_civil_time.h"

namespace keyline::der {
namespace {

// 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the range a four-digit year can name.
constexpr int64_t kFirstEncodableSecond = -62135596800;
constexpr int64_t kPastLastEncodableSecond = 253402300800;

size_t LengthOctets(size_t content_length) {
  size_t octets = 0;
  for (size_t rest = content_length; rest > 0; rest >>= 8) ++octets;
  return octets;
}

size_t TotalSize(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view part : parts) size += part.size();
  return size;
}

}  // namespace

size_t HeaderSize(size_t content_length) {
  return content_length < 0x80 ? 2 : 2 + LengthOctets(content_length);
}

void AppendHeader(std::string& out, uint8_t tag, size_t content_length) {
  out.push_back(static_cast<char>(tag));
  if (content_length < 0x80) {
    out.push_back(static_cast<char>(content_length));
    return;
  }
  const size_t octets = LengthOctets(content_length);
  out.push_back(static_cast<char>(0x80 | octets));
  for (size_t i = octets; i > 0; --i) {
    out.push_back(static_cast<char>((content_length >> (8 * (i - 1))) & 0xff));
  }
}

void AppendTlv(std::string& out, uint8_t tag, std::initializer_list<std::string_view> parts) {
  const size_t length = TotalSize(parts);
  out.reserve(out.size() + HeaderSize(length) + length);
  AppendHeader(out, tag, length);
  for (std::string_view part : parts) out.append(part);
}

std::string Tlv(uint8_t tag, std::string_view content) {
  std::string out;
  AppendTlv(out, tag, {content});
  return out;
}

std::string Tlv(uint8_t tag, std::initializer_list<std::string_view> parts) {
  std::string out;
  AppendTlv(out, tag, parts);
  return out;
}

bool IsEncodableTime(absl::Time time) {
  return time >= absl::FromUnixSeconds(kFirstEncodableSecond) &&
         time < absl::FromUnixSeconds(kPastLastEncodableSecond);
}

absl::Time TruncateToSecond(absl::Time time) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(time));  // rounds toward the past
}

std::string GeneralizedTime(absl::Time time) {
  // Digit by digit: every OCSP response carries three of these, and snprintf's format parsing
  // cost more than the rest of the encoding. Years outside 0001-9999 are the caller's to refuse
  // (IsEncodableTime); here they would only lose their high digits.
  const UtcCivilSecond civil = ToUtcCivil(absl::ToUnixSeconds(time));
  const auto year = static_cast<unsigned>(civil.year);
  char text[15];
  char* cursor = WriteTwoDigits(text, year / 100);
  cursor = WriteTwoDigits(cursor, year % 100);
  cursor = WriteTwoDigits(cursor, civil.month);
  cursor = WriteTwoDigits(cursor, civil.day);
  cursor = WriteTwoDigits(cursor, civil.hour);
  cursor = WriteTwoDigits(cursor, civil.minute);
  cursor = WriteTwoDigits(cursor, civil.second);
  *cursor = 'Z';
  return Tlv(kGeneralizedTime, std::string_view(text, sizeof(text)));
}

}  // namespace keyline::der
