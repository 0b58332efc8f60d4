// Certificate serial numbers: 16 octets from the CSPRNG (RFC 5280 4.1.2.2 allows up to 20;
// CA/B Forum asks for at least 64 bits of CSPRNG output). The top bit is cleared so the INTEGER is
// positive, and the next bit is set so every serial is exactly 16 octets (no leading zero octet
// to strip), which leaves 126 random bits. Uniqueness is enforced by the certificates table's
// primary key; a collision is retried with a fresh serial.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {

inline constexpr size_t kSerialBytes = 16;

// Raw big-endian magnitude, kSerialBytes long. Internal error only if the CSPRNG fails.
[[nodiscard]] absl::StatusOr<std::string> GenerateSerial();

// The serial as an ASN1_INTEGER, for X509_set_serialNumber.
[[nodiscard]] Asn1IntegerPtr SerialToAsn1Integer(std::string_view serial);

// The serial of a certificate as raw big-endian magnitude (empty for a non-positive serial).
std::string SerialOf(const X509* certificate);

}  // namespace keyline::ca
