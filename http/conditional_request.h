// Conditional GET (RFC 9110 section 13): when may a 200 be answered with 304 Not Modified.
//
// Follows the evaluation order of section 13.2.2 for GET and HEAD: If-None-Match decides when
// present; If-Modified-Since is looked at only without it. Deviations, all of which answer 200
// where a full implementation might answer 304 (never the other way round):
// - HTTP dates are read in IMF-fixdate form only ("Sun, 06 Nov 1994 08:49:37 GMT"); the obsolete
//   RFC 850 and asctime forms make If-Modified-Since be ignored.
// - A 304 is only considered for status 200.
// - A response whose Last-Modified does not validate (HttpResponse::last_modified_validates)
//   never answers If-Modified-Since.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "http/http_message.h"

namespace keyline::http {

// Weak comparison (RFC 9110 section 8.8.3.2) of `etag` with each entity-tag of an If-None-Match
// field value ("*" matches any). A malformed list matches nothing.
[[nodiscard]] bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag);

// Seconds since the Unix epoch of an IMF-fixdate; nullopt for anything else.
[[nodiscard]] std::optional<int64_t> ParseImfFixdate(std::string_view text);

// Whether `response` (about to be sent for `request`) becomes a 304 instead. Does not allocate.
[[nodiscard]] bool IsNotModified(const HttpRequest& request, const HttpResponse& response);

}  // namespace keyline::http
