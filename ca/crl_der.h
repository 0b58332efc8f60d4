// The DER pieces a CRL is made of (RFC 5280 5.1), written by hand because they are produced a
// million at a time: OpenSSL's X509_CRL builds an object per entry and re-encodes the whole list on
// every i2d, which is what makes `openssl ca -gencrl` take seconds for a large CRL.
//
// Everything here is a pure function of its arguments. Callers validate input with the Check*
// functions first; the Append* functions assume valid input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace keyline::ca {

// Reasons are CRLReason codes (RFC 5280 5.3.1, named in ca/revocation_reason.h) as plain ints, the
// form the certificates table stores (revocation_reason smallint); 7 is unassigned.

// RFC 5280 4.1.2.2: a serial is at most 20 octets.
inline constexpr size_t kMaxSerialOctets = 20;

// A revoked entry is at most this long (20-octet serial with a sign octet, GeneralizedTime
// revocationDate, reasonCode and invalidityDate), so its SEQUENCE always has a one-octet length.
inline constexpr size_t kMaxRevokedEntryBytes = 127;

// InvalidArgument naming `field` unless `reason` is a CRLReason code (0-10 except 7).
absl::Status CheckCrlReason(int reason, std::string_view field);

// InvalidArgument naming `field` unless `time` falls in years 0001-9999 (what Time can encode).
absl::Status CheckCrlTime(absl::Time time, std::string_view field);

// The content octets of the INTEGER for a serial given as big-endian magnitude: leading zero
// octets dropped, a zero octet prepended when the top bit is set. InvalidArgument naming `field`
// for an empty or zero serial or one longer than kMaxSerialOctets after dropping leading zeros.
absl::Status SerialIntegerContent(std::string_view magnitude, std::string_view field,
                                  std::string* content);

// DistributionPointName of one URL: distributionPoint [0] { fullName [0] {
// uniformResourceIdentifier [6] url } } (RFC 5280 4.2.1.13, 5.2.5; the CHOICE makes the outer tag
// explicit). In certificates' CRL distribution points and CRLs' issuing distribution point and
// freshest CRL.
std::string DistributionPointName(std::string_view url);

// INTEGER for a non-negative number (CRL numbers, RFC 5280 5.2.3).
std::string DerUnsignedInteger(uint64_t value);

// Time (RFC 5280 4.1.2.5 and 5.1.2.4): UTCTime for 1950-2049, GeneralizedTime otherwise, whole
// seconds (the fraction is dropped), always "Z".
void AppendCrlTime(std::string& out, absl::Time time);

// One revokedCertificates entry (RFC 5280 5.1.2.6): userCertificate, revocationDate and, when
// there are any, crlEntryExtensions: reasonCode (left out for unspecified, as 5.3.1 advises) and
// invalidityDate (5.3.2, always GeneralizedTime). `serial_content` comes from
// SerialIntegerContent. Writes at most kMaxRevokedEntryBytes into `out` and returns the length.
size_t EncodeRevokedEntry(std::string_view serial_content, absl::Time revoked_at,
                          int reason, std::optional<absl::Time> invalidity_date,
                          char (&out)[kMaxRevokedEntryBytes]);

// The userCertificate INTEGER content octets of an entry EncodeRevokedEntry wrote.
inline std::string_view SerialContentOfEntry(const char* entry) {
  return std::string_view(entry + 4, static_cast<unsigned char>(entry[3]));
}

}  // namespace keyline::ca
