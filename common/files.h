// Small file helpers with the permissions Keyline's secrets need.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace keyline {

// Reads a whole file. Fails with InvalidArgument when it is larger than max_bytes, NotFound when
// it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = 16 << 20);

// Writes a file atomically (temporary file in the same directory, fsync, rename) with the given
// mode. Mode 0600 is what every secret (PINs, private keys, credentials) uses.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents,
                                 unsigned mode = 0644);

// Creates a directory (and its parents) if missing, then sets its mode.
absl::Status MakeDirectories(const std::string& path, unsigned mode = 0755);

bool FileExists(const std::string& path);

}  // namespace keyline
