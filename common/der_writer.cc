#include "common/der_writer.h"

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

char* WriteTimeText(char* out, const UtcCivilSecond& civil, bool four_digit_year) {
  const auto year = static_cast<unsigned>(civil.year);
  if (four_digit_year) out = WriteTwoDigits(out, year / 100);
  out = WriteTwoDigits(out, year % 100);
  out = WriteTwoDigits(out, civil.month);
  out = WriteTwoDigits(out, civil.day);
  out = WriteTwoDigits(out, civil.hour);
  out = WriteTwoDigits(out, civil.minute);
  out = WriteTwoDigits(out, civil.second);
  *out++ = 'Z';
  return out;
}

std::string GeneralizedTime(absl::Time time) {
  // Digit by digit: every OCSP response carries three of these, and snprintf's format parsing
  // cost more than the rest of the encoding.
  char text[15];
  WriteTimeText(text, ToUtcCivil(absl::ToUnixSeconds(time)), /*four_digit_year=*/true);
  return Tlv(kGeneralizedTime, std::string_view(text, sizeof(text)));
}

}  // namespace keyline::der
