// Just enough DER writing for OCSP responses (X.690 10: definite, minimal lengths). Responses are
// assembled from pre-encoded pieces (the CertID as received, the signer certificate) because
// building OpenSSL's OCSP_* objects and encoding them costs more than the rest of a pre-signed
// answer; reading DER is left to OpenSSL.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace keyline::ocsp::der {

inline constexpr uint8_t kBoolean = 0x01;
inline constexpr uint8_t kInteger = 0x02;
inline constexpr uint8_t kBitString = 0x03;
inline constexpr uint8_t kOctetString = 0x04;
inline constexpr uint8_t kNull = 0x05;
inline constexpr uint8_t kObjectIdentifier = 0x06;
inline constexpr uint8_t kEnumerated = 0x0a;
inline constexpr uint8_t kGeneralizedTime = 0x18;
inline constexpr uint8_t kSequence = 0x30;

// Context-specific tags: [n] IMPLICIT of a primitive, [n] EXPLICIT or IMPLICIT of a constructed.
constexpr uint8_t ContextPrimitive(uint8_t number) { return 0x80 | number; }
constexpr uint8_t ContextConstructed(uint8_t number) { return 0xa0 | number; }

// Appends the identifier and length octets.
void AppendHeader(std::string* out, uint8_t tag, size_t length);

// Appends tag, length and the concatenation of `parts`.
void AppendTlv(std::string* out, uint8_t tag, std::initializer_list<std::string_view> parts);

std::string Tlv(uint8_t tag, std::initializer_list<std::string_view> parts);

// GeneralizedTime "YYYYMMDDHHMMSSZ" (RFC 5280 4.1.2.5.2: UTC, whole seconds), truncated to the
// second. `time` must satisfy IsEncodableTime.
std::string GeneralizedTime(absl::Time time);

// Whether GeneralizedTime can carry `time`: years 0001..9999 (no infinite times).
bool IsEncodableTime(absl::Time time);

// The time as it reads back from GeneralizedTime(time).
absl::Time TruncateToSecond(absl::Time time);

}  // namespace keyline::ocsp::der
