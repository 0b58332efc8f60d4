#include "cli/serial_list.h"

#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ca/device_identity.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace keyline::cli {
namespace {

// Serial files of a few million lines are fine; anything larger is a mistake.
constexpr size_t kMaxSerialsFileBytes = 256 << 20;

class SerialCollector {
 public:
  absl::Status Add(std::string_view serial, const std::string& where) {
    KEYLINE_RETURN_IF_ERROR(ca::ValidateDeviceSerial(serial, where));
    const auto [it, inserted] = first_.emplace(std::string(serial), where);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", AsAbsl(serial), " repeats ", it->second));
    }
    serials_.emplace_back(serial);
    return absl::OkStatus();
  }
  std::vector<std::string> Take() && { return std::move(serials_); }
  bool empty() const { return serials_.empty(); }

 private:
  std::vector<std::string> serials_;
  std::unordered_map<std::string, std::string> first_;  // serial -> where it first appeared
};

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseSerialList(std::string_view text,
                                                         std::string_view name) {
  SerialCollector collector;
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(AsAbsl(text), '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    KEYLINE_RETURN_IF_ERROR(
        collector.Add(AsStd(line), absl::StrCat(AsAbsl(name), ":", line_number)));
  }
  if (collector.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(name), ": no device serials"));
  }
  return std::move(collector).Take();
}

absl::StatusOr<std::vector<std::string>> CollectSerials(
    const std::vector<std::string>& flag_values, const std::string& file) {
  if (flag_values.empty() == file.empty()) {
    return absl::InvalidArgumentError("give --serial (repeatable) or --serials-file, not both");
  }
  if (!file.empty()) {
    KEYLINE_ASSIGN_OR_RETURN(const std::string text, ReadFile(file, kMaxSerialsFileBytes));
    return ParseSerialList(text, file);
  }
  SerialCollector collector;
  for (size_t i = 0; i < flag_values.size(); ++i) {
    KEYLINE_RETURN_IF_ERROR(collector.Add(flag_values[i], absl::StrCat("--serial #", i + 1)));
  }
  return std::move(collector).Take();
}

}  // namespace keyline::cli
