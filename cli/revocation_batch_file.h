// What `keylinectl revoke` revokes: certificates by serial and devices (all their certificates),
// from repeated --serial/--device flags or a --batch file, checked completely before anything is
// sent so that a bad list fails naming its line and changes nothing.
//
// Batch file format, one target a line:
//   serial <hex> [reason]     a certificate, by its serial number in hex
//   device <serial> [reason]  every certificate of a device
// Fields are separated by spaces or tabs; surrounding whitespace and a trailing CR are ignored;
// blank lines and lines whose first non-blank character is '#' are skipped. Comments after a
// target are not allowed, nor are other keywords, upper-case keywords or a bare serial without
// its keyword: device serials may be all hex digits too, so a bare token would be ambiguous.
// `reason` is an RFC 5280 CRLReason name (ca/revocation_reason.h, case-insensitive); a line
// without one takes the command's --reason.
//
// Serial numbers are hex digits only (either case, no "0x", no colons), 1 to 40 digits once
// leading zeros are dropped (RFC 5280 4.1.2.2: at most 20 octets); the result is the raw
// big-endian magnitude that RevocationTarget.certificate_serial carries. Zero is refused.
//
// A target named twice (the same serial, or the same device) is refused naming both places.
// A list of more than kMaxRevocationTargets targets is refused: the server revokes the whole
// list in one transaction and takes at most that many.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace keyline::cli {

inline constexpr size_t kMaxRevocationTargets = 100'000;

struct RevocationTargetSpec {
  enum class Kind { kCertificate, kDevice };
  Kind kind = Kind::kCertificate;
  std::string id;      // raw big-endian serial magnitude, or the device serial
  std::string reason;  // canonical RFC 5280 name ("keyCompromise"); empty: the command's reason
  std::string where;   // "FILE:LINE", "--serial #2" or "--device #1", for error messages
};

// Hex serial -> raw big-endian magnitude. InvalidArgument "<where>: ..." otherwise.
[[nodiscard]] absl::StatusOr<std::string> ParseCertificateSerialHex(std::string_view hex,
                                                                    std::string_view where);

// The batch file's text; `name` (the path) prefixes every error: "<name>:<line>: ...".
// InvalidArgument for a malformed line, a repeat, an empty list or too many targets.
[[nodiscard]] absl::StatusOr<std::vector<RevocationTargetSpec>> ParseRevocationBatch(
    std::string_view text, std::string_view name);

// Reads and parses a batch file (NotFound when missing, InvalidArgument when over 64 MiB).
[[nodiscard]] absl::StatusOr<std::vector<RevocationTargetSpec>> ReadRevocationBatch(
    const std::string& path);

// Targets from --serial values, then --device values, in that order. InvalidArgument naming
// "--serial #N" / "--device #N" for a malformed value or a repeat, or when both are empty.
[[nodiscard]] absl::StatusOr<std::vector<RevocationTargetSpec>> RevocationTargetsFromFlags(
    const std::vector<std::string>& serials, const std::vector<std::string>& devices);

// Rewrites a server error that names "targets[i]" so that it starts with targets[i].where:
// "revoke.txt:7: targets[6].certificate_serial: no certificate 0a1b...". Other errors, and
// indexes out of range, are returned unchanged.
[[nodiscard]] absl::Status LocateTargetError(const absl::Status& status,
                                             const std::vector<RevocationTargetSpec>& targets);

}  // namespace keyline::cli
