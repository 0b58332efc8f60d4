#include "ocsp/der_writer.h"

#include <cstdio>

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
  char text[32];
  const int length = std::snprintf(text, sizeof(text), "%04d%02d%02d%02d%02d%02dZ",
                                   static_cast<int>(civil.year()), civil.month(), civil.day(),
                                   civil.hour(), civil.minute(), civil.second());
  return Tlv(kGeneralizedTime, {std::string_view(text, static_cast<size_t>(length))});
}

}  // namespace keyline::ocsp::der
