#include "ocsp/der_writer.h"

#include <cstdint>

namespace keyline::ocsp::der {

void AppendHeader(std::string* out, uint8_t tag, size_t length) {
  out->push_back(static_cast<char>(tag));
  if (length < 0x80) {
    out->push_back(static_cast<char>(length));
    return;
  }
  int octets = 0;
  for (size_t rest = length; rest != 0; rest >>= 8) ++octets;
  out->push_back(static_cast<char>(0x80 | octets));
  for (int shift = (octets - 1) * 8; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((length >> shift) & 0xff));
  }
}

void AppendTlv(std::string* out, uint8_t tag, std::initializer_list<std::string_view> parts) {
  size_t length = 0;
  for (std::string_view part : parts) length += part.size();
  out->reserve(out->size() + length + 6);
  AppendHeader(out, tag, length);
  for (std::string_view part : parts) out->append(part);
}

std::string Tlv(uint8_t tag, std::initializer_list<std::string_view> parts) {
  std::string out;
  AppendTlv(&out, tag, parts);
  return out;
}

absl::Time TruncateToSecond(absl::Time time) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(time));  // rounds toward the past
}

bool IsEncodableTime(absl::Time time) {
  const absl::CivilSecond civil = absl::ToCivilSecond(time, absl::UTCTimeZone());
  return time != absl::InfinitePast() && time != absl::InfiniteFuture() && civil.year() >= 1 &&
         civil.year() <= 9999;
}

std::string GeneralizedTime(absl::Time time) {
  const absl::CivilSecond civil = absl::ToCivilSecond(time, absl::UTCTimeZone());
  // YYYYMMDDHHMMSSZ, digit by digit: every response carries three of these, and snprintf's format
  // parsing cost more than the rest of the encoding. Years outside 0-9999 are the caller's to
  // refuse (IsEncodableTime); here they would only lose their high digits.
  char text[15];
  const auto put = [&text](int at, int digits, int64_t value) {
    for (int i = digits - 1; i >= 0; --i, value /= 10) {
      text[at + i] = static_cast<char>('0' + value % 10);
    }
  };
  put(0, 4, civil.year());
  put(4, 2, civil.month());
  put(6, 2, civil.day());
  put(8, 2, civil.hour());
  put(10, 2, civil.minute());
  put(12, 2, civil.second());
  text[14] = 'Z';
  return Tlv(kGeneralizedTime, {std::string_view(text, sizeof(text))});
}

}  // namespace keyline::ocsp::der
