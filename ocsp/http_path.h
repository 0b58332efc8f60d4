// Decodes the GET form of an OCSP request (RFC 6960 Appendix A.1):
//   GET {url}/{url-encoding of base-64 encoding of the DER encoding of the OCSPRequest}
//
// `encoded` is everything after the responder's path prefix ("/ocsp/"), without the query string.
// It is percent-decoded first (a '%' must start a valid %XX escape), then base64-decoded with the
// standard alphabet. Clients differ in what they escape: some send '+', '/' and '=' raw, some as
// %2B, %2F and %3D, and some put the raw '/' of the base64 text into the path, so the whole
// remainder of the path, slashes included, is one encoded request. '=' padding may be missing;
// when present it must be correct and last. Anything else (URL-safe '-' and '_', whitespace, a '+'
// meant as a space) is refused: cfssl refuses '+' and '/' which real clients send, we must not, and
// we accept nothing beyond them either.
//
// The result still has to go through ParseOcspRequest.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace keyline::ocsp {

inline constexpr size_t kMaxEncodedOcspGetPathBytes = 64 * 1024;

// InvalidArgument ("ocsp GET path: ...") for an empty or over-long input, a bad percent escape, a
// character outside the base64 alphabet, or misplaced or wrong padding.
[[nodiscard]] absl::StatusOr<std::string> DecodeOcspGetPath(std::string_view encoded);

}  // namespace keyline::ocsp
