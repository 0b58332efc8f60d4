// DER writing by hand (X.690 10: definite, minimal lengths) for what Keyline produces in bulk:
// certificates' TBSCertificate, CRLs and OCSP responses, assembled from pre-encoded pieces because
// building OpenSSL's objects and encoding them costs more than the rest. Reading DER is left to
// OpenSSL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "common/utc_civil_time.h"

namespace keyline::der {

inline constexpr uint8_t kBoolean = 0x01;
inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kBitString = 0x03;
inline constexpr uint8_t kOctetString = 0x04;
inline constexpr uint8_t kNull = 0x05;
inline constexpr uint8_t kObjectIdentifier = 0x06;
inline constexpr uint8_t kEnumerated = 0x0a;
inline constexpr uint8_t kUtf8String = 0x0c;
inline constexpr uint8_t kPrintableString = 0x13;
inline constexpr uint8_t kUtcTime = 0x17;
inline constexpr uint8_t kGeneralizedTime = 0x18;
inline constexpr uint8_t kSequence = 0x30;
inline constexpr uint8_t kSet = 0x31;

// Context-specific tags: [n] IMPLICIT of a primitive, [n] EXPLICIT or IMPLICIT of a constructed.
constexpr uint8_t ContextPrimitive(uint8_t number) { return 0x80 | number; }
constexpr uint8_t ContextConstructed(uint8_t number) { return 0xa0 | number; }

// The size of the identifier and length octets for `content_length` octets of content.
size_t HeaderSize(size_t content_length);

// Appends the identifier and length octets.
void AppendHeader(std::string& out, uint8_t tag, size_t content_length);

// Appends tag, length and the concatenation of `parts`.
void AppendTlv(std::string& out, uint8_t tag, std::initializer_list<std::string_view> parts);

// Tag, length and `content`; or the concatenation of `parts` (a braced list picks this one).
std::string Tlv(uint8_t tag, std::string_view content);
std::string Tlv(uint8_t tag, std::initializer_list<std::string_view> parts);

// Whether a four-digit year can carry `time`: 0001-01-01T00:00:00Z up to the end of 9999 (no
// infinite times).
bool IsEncodableTime(absl::Time time);

// The time truncated to the second, toward the past: what reads back from a DER time.
absl::Time TruncateToSecond(absl::Time time);

// Writes the text of a time, "YYYYMMDDHHMMSSZ" (GeneralizedTime, `four_digit_year`) or
// "YYMMDDHHMMSSZ" (UTCTime), digit by digit; returns the end. Years outside 0001-9999 lose their
// high digits: they are the caller's to refuse (IsEncodableTime).
char* WriteTimeText(char* out, const UtcCivilSecond& civil, bool four_digit_year);

// GeneralizedTime "YYYYMMDDHHMMSSZ" (RFC 5280 4.1.2.5.2: UTC, whole seconds), truncated to the
// second. `time` must satisfy IsEncodableTime.
std::string GeneralizedTime(absl::Time time);

}  // namespace keyline::der
