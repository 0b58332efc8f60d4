#include "hsm/pin_source.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/files.h"

namespace keyline::hsm {
namespace {

// A PIN file is a few bytes; anything much larger is not a PIN file.
constexpr size_t kMaxPinFileBytes = 4096;

absl::StatusOr<std::string> ReadPinFile(std::string_view source, const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(AsAbsl(source), ": no such file"));
    return absl::FailedPreconditionError(absl::StrCat(AsAbsl(source), ": ", std::strerror(errno)));
  }
  // A PIN others can read is a PIN others know: refuse it rather than use it.
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(source),
                                                   ": readable by group or others (mode ", mode,
                                                   "); restrict it to its owner (chmod 600)"));
  }
  absl::StatusOr<std::string> contents = ReadFile(path, kMaxPinFileBytes);
  if (!contents.ok()) {
    return absl::Status(contents.status().code(),
                        absl::StrCat(AsAbsl(source), ": cannot read the PIN file"));
  }
  std::string pin = *std::move(contents);
  // Editors and `echo` add one newline; it is not part of the PIN.
  if (!pin.empty() && pin.back() == '\n') {
    pin.pop_back();
    if (!pin.empty() && pin.back() == '\r') pin.pop_back();
  }
  return pin;
}

absl::StatusOr<std::string> ReadPinVariable(std::string_view source, const std::string& name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(source), ": no variable name"));
  }
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return absl::NotFoundError(absl::StrCat(AsAbsl(source), ": not set"));
  return std::string(value);
}

}  // namespace

absl::StatusOr<std::string> ReadPin(std::string_view source) {
  constexpr std::string_view kFile = "file:";
  constexpr std::string_view kEnv = "env:";
  absl::StatusOr<std::string> pin;
  if (source.starts_with(kFile)) {
    const std::string path(source.substr(kFile.size()));
    if (path.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(AsAbsl(source), ": no file name"));
    }
    pin = ReadPinFile(source, path);
  } else if (source.starts_with(kEnv)) {
    pin = ReadPinVariable(source, std::string(source.substr(kEnv.size())));
  } else {
    // Not echoed: a PIN pasted where its source belongs must not end up in a log.
    return absl::InvalidArgumentError(
        "pin source: unknown scheme; expected file:/path or env:NAME");
  }
  if (pin.ok() && pin->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(source), ": the PIN is empty"));
  }
  return pin;
}

}  // namespace keyline::hsm
