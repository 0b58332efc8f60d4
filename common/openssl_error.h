// Turns OpenSSL's thread-local error queue into text for absl::Status messages.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace keyline {

// Drains the calling thread's OpenSSL error queue and returns its entries joined by "; ".
// Returns "no OpenSSL error recorded" when the queue is empty.
std::string DrainOpenSslErrors();

// Builds a status "<context>: <drained OpenSSL errors>" with the given code.
absl::Status OpenSslError(absl::StatusCode code, std::string_view context);

}  // namespace keyline
