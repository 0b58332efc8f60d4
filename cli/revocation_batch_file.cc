#include "cli/revocation_batch_file.h"

#include <optional>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ca/device_identity.h"
#include "ca/revocation_reason.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "common/hex.h"
#include "common/status_macros.h"

namespace keyline::cli {
namespace {

// 100,000 lines of "device <64 characters> cessationOfOperation" stay far below this.
constexpr size_t kMaxBatchFileBytes = 64 << 20;
constexpr size_t kMaxSerialHexDigits = 40;  // 20 octets, RFC 5280 4.1.2.2

class TargetCollector {
 public:
  explicit TargetCollector(std::string_view list_name) : list_name_(list_name) {}

  absl::Status Add(RevocationTargetSpec target) {
    if (targets_.size() == kMaxRevocationTargets) {
      return absl::InvalidArgumentError(
          absl::StrCat(AsAbsl(list_name_), ": more than ", kMaxRevocationTargets,
                       " targets; keyline-server revokes at most ", kMaxRevocationTargets,
                       " in one transaction, so split the list"));
    }
    auto& seen = target.kind == RevocationTargetSpec::Kind::kCertificate ? serials_ : devices_;
    const auto [it, inserted] = seen.emplace(target.id, target.where);
    if (!inserted) {
      const std::string shown = target.kind == RevocationTargetSpec::Kind::kCertificate
                                    ? absl::StrCat("serial ", HexEncode(target.id))
                                    : absl::StrCat("device ", target.id);
      return absl::InvalidArgumentError(
          absl::StrCat(target.where, ": ", shown, " repeats ", it->second));
    }
    targets_.push_back(std::move(target));
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<RevocationTargetSpec>> Take() && {
    if (targets_.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(AsAbsl(list_name_), ": no targets"));
    }
    return std::move(targets_);
  }

 private:
  std::string_view list_name_;
  std::vector<RevocationTargetSpec> targets_;
  std::unordered_map<std::string, std::string> serials_;  // raw serial -> where it first appeared
  std::unordered_map<std::string, std::string> devices_;
};

absl::StatusOr<std::string> CanonicalReason(std::string_view name, const std::string& where) {
  KEYLINE_ASSIGN_OR_RETURN(const int code,
                           ca::ParseRevocationReason(name, absl::StrCat(where, ": reason")));
  return std::string(ca::RevocationReasonName(code));
}

absl::StatusOr<RevocationTargetSpec> ParseLine(absl::string_view line, const std::string& where) {
  const std::vector<absl::string_view> fields =
      absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  // The caller skipped blank lines, so there is at least one field.
  const absl::string_view keyword = fields.front();
  if (keyword != "serial" && keyword != "device") {
    return absl::InvalidArgumentError(
        absl::StrCat(where,
                     ": expected \"serial <hex> [reason]\" or \"device <serial> [reason]\", "
                     "got \"",
                     keyword, "\""));
  }
  if (fields.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", keyword, " without a value"));
  }
  if (fields.size() > 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": ", fields.size(), " fields; expected \"", keyword, " <value> [reason]\""));
  }
  RevocationTargetSpec target;
  target.where = where;
  if (keyword == "serial") {
    target.kind = RevocationTargetSpec::Kind::kCertificate;
    KEYLINE_ASSIGN_OR_RETURN(target.id, ParseCertificateSerialHex(AsStd(fields[1]), where));
  } else {
    target.kind = RevocationTargetSpec::Kind::kDevice;
    KEYLINE_RETURN_IF_ERROR(ca::ValidateDeviceSerial(AsStd(fields[1]), where));
    target.id = std::string(fields[1]);
  }
  if (fields.size() == 3) {
    KEYLINE_ASSIGN_OR_RETURN(target.reason, CanonicalReason(AsStd(fields[2]), where));
  }
  return target;
}

}  // namespace

absl::StatusOr<std::string> ParseCertificateSerialHex(std::string_view hex,
                                                      std::string_view where) {
  if (hex.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(where), ": empty serial"));
  }
  for (const char c : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat(AsAbsl(where), ": serial \"", AsAbsl(hex),
                       "\" is not hexadecimal (digits 0-9 and a-f only, no 0x prefix or colons)"));
    }
  }
  std::string_view digits = hex;
  while (!digits.empty() && digits.front() == '0') digits.remove_prefix(1);
  if (digits.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(where), ": serial 0 (serial numbers are positive)"));
  }
  if (digits.size() > kMaxSerialHexDigits) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(where), ": serial of ", digits.size(),
                                                   " hex digits; at most ", kMaxSerialHexDigits,
                                                   " (20 octets, RFC 5280 4.1.2.2)"));
  }
  const std::string even =
      digits.size() % 2 == 1 ? absl::StrCat("0", AsAbsl(digits)) : std::string(digits);
  std::optional<std::string> raw = HexDecode(even);
  if (!raw) return absl::InternalError("serial: hex digits that do not decode");
  return *std::move(raw);
}

absl::StatusOr<std::vector<RevocationTargetSpec>> ParseRevocationBatch(std::string_view text,
                                                                       std::string_view name) {
  TargetCollector collector(name);
  size_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(AsAbsl(text), '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = absl::StrCat(AsAbsl(name), ":", line_number);
    KEYLINE_ASSIGN_OR_RETURN(RevocationTargetSpec target, ParseLine(line, where));
    KEYLINE_RETURN_IF_ERROR(collector.Add(std::move(target)));
  }
  return std::move(collector).Take();
}

absl::StatusOr<std::vector<RevocationTargetSpec>> ReadRevocationBatch(const std::string& path) {
  KEYLINE_ASSIGN_OR_RETURN(const std::string text, ReadFile(path, kMaxBatchFileBytes));
  return ParseRevocationBatch(text, path);
}

absl::StatusOr<std::vector<RevocationTargetSpec>> RevocationTargetsFromFlags(
    const std::vector<std::string>& serials, const std::vector<std::string>& devices) {
  TargetCollector collector("--serial/--device");
  for (size_t i = 0; i < serials.size(); ++i) {
    RevocationTargetSpec target;
    target.kind = RevocationTargetSpec::Kind::kCertificate;
    target.where = absl::StrCat("--serial #", i + 1);
    KEYLINE_ASSIGN_OR_RETURN(target.id, ParseCertificateSerialHex(serials[i], target.where));
    KEYLINE_RETURN_IF_ERROR(collector.Add(std::move(target)));
  }
  for (size_t i = 0; i < devices.size(); ++i) {
    RevocationTargetSpec target;
    target.kind = RevocationTargetSpec::Kind::kDevice;
    target.where = absl::StrCat("--device #", i + 1);
    KEYLINE_RETURN_IF_ERROR(ca::ValidateDeviceSerial(devices[i], target.where));
    target.id = devices[i];
    KEYLINE_RETURN_IF_ERROR(collector.Add(std::move(target)));
  }
  return std::move(collector).Take();
}

absl::Status LocateTargetError(const absl::Status& status,
                               const std::vector<RevocationTargetSpec>& targets) {
  constexpr absl::string_view kPrefix = "targets[";
  const absl::string_view message = status.message();
  const size_t start = message.find(kPrefix);
  if (start == absl::string_view::npos) return status;
  const size_t digits_begin = start + kPrefix.size();
  const size_t close = message.find(']', digits_begin);
  if (close == absl::string_view::npos) return status;
  size_t index = 0;
  if (!absl::SimpleAtoi(message.substr(digits_begin, close - digits_begin), &index) ||
      index >= targets.size()) {
    return status;
  }
  return absl::Status(status.code(), absl::StrCat(targets[index].where, ": ", message));
}

}  // namespace keyline::cli
