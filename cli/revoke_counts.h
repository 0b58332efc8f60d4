// What a RevokeResponse counts. A server lists the first 10,000 certificates and counts them all
// (revoked_count, revoked_by_issuer); a server older than the counts lists every certificate and
// sends no counts, so the list is the count.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "keyline/v1/admin.pb.h"

namespace keyline::cli {

// Certificates newly revoked (would be, on a dry run), listed or not.
[[nodiscard]] int64_t RevokedCount(const keyline::v1::RevokeResponse& response);

// The same, by CA name.
[[nodiscard]] std::map<std::string, int64_t> RevokedByIssuer(
    const keyline::v1::RevokeResponse& response);

// How many of them the response does not list.
[[nodiscard]] int64_t UnlistedCount(const keyline::v1::RevokeResponse& response);

}  // namespace keyline::cli
