#include "cli/revoke_command.h"

#include <unistd.h>

#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "ca/revocation_reason.h"
#include "cli/progress.h"
#include "cli/revocation_batch_file.h"
#include "cli/revoke_counts.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "keyline/v1/admin.grpc.pb.h"

namespace keyline::cli {
namespace {

using keyline::v1::AdminService;

// One transaction over up to 100,000 targets; an admin command that may take a while, never a
// hang (the deadline cancels the call, and the server rolls the transaction back).
constexpr absl::Duration kTimeout = absl::Minutes(10);

struct RevokeOptions {
  std::vector<std::string> serials;
  std::vector<std::string> devices;
  std::string batch_file;
  std::string reason;
  std::string invalidity_date;
  bool dry_run = false;
};

absl::StatusOr<std::vector<RevocationTargetSpec>> CollectTargets(const RevokeOptions& options) {
  if (!options.batch_file.empty()) return ReadRevocationBatch(options.batch_file);
  return RevocationTargetsFromFlags(options.serials, options.devices);
}

absl::StatusOr<absl::Time> ParseInvalidityDate(const std::string& text, absl::Time now) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--invalidity-date: \"", text, "\" is not RFC 3339 (2026-03-01T12:00:00Z): ", error));
  }
  if (time > now) {
    return absl::InvalidArgumentError(
        absl::StrCat("--invalidity-date: ", TimeText(time), " is in the future"));
  }
  return time;
}

// Everything checked before any connection is made.
absl::StatusOr<keyline::v1::RevokeRequest> BuildRequest(
    const RevokeOptions& options, const std::vector<RevocationTargetSpec>& targets) {
  keyline::v1::RevokeRequest request;
  KEYLINE_ASSIGN_OR_RETURN(const int reason, ca::ParseRevocationReason(options.reason, "--reason"));
  if (!options.reason.empty()) request.set_reason(std::string(ca::RevocationReasonName(reason)));
  if (!options.invalidity_date.empty()) {
    KEYLINE_ASSIGN_OR_RETURN(const absl::Time invalidity,
                             ParseInvalidityDate(options.invalidity_date, absl::Now()));
    const absl::Duration since_epoch = invalidity - absl::UnixEpoch();
    const int64_t seconds = absl::ToInt64Seconds(since_epoch);
    request.mutable_invalidity_date()->set_seconds(seconds);
    request.mutable_invalidity_date()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(seconds))));
  }
  request.set_dry_run(options.dry_run);
  request.mutable_targets()->Reserve(static_cast<int>(targets.size()));
  for (const RevocationTargetSpec& target : targets) {
    keyline::v1::RevocationTarget* out = request.add_targets();
    if (target.kind == RevocationTargetSpec::Kind::kCertificate) {
      out->set_certificate_serial(target.id);
    } else {
      out->set_device_serial(target.id);
    }
    out->set_reason(target.reason);
  }
  return request;
}

// On a terminal, one bar for the step the server reports ("revoking: recording [###   ] ...");
// nothing otherwise. Before the server's first report the step is "sending".
class StepBar {
 public:
  StepBar(size_t targets, bool dry_run)
      : enabled_(isatty(STDERR_FILENO) == 1), prefix_(dry_run ? "dry run: " : "revoking: ") {
    keyline::v1::RevokeStep sending;
    sending.set_step("sending");
    sending.set_total(static_cast<int64_t>(targets));
    Show(sending);
  }

  void Show(const keyline::v1::RevokeStep& step) {
    if (!enabled_) return;
    if (bar_ == nullptr || step.step() != step_) {
      if (bar_ != nullptr) bar_->Finish();
      step_ = step.step();
      bar_ = std::make_unique<Progress>(std::cerr, true, prefix_ + step_, step.total());
    }
    bar_->Advance(step.done() - bar_->done());
  }

  void Finish() {
    if (bar_ != nullptr) bar_->Finish();
  }

 private:
  const bool enabled_;
  const std::string prefix_;
  std::string step_;
  std::unique_ptr<Progress> bar_;
};

std::string Where(const std::vector<RevocationTargetSpec>& targets, uint32_t index) {
  return index < targets.size() ? targets[index].where : absl::StrCat("targets[", index, "]");
}

void PrintJson(const keyline::v1::RevokeResponse& response,
               const std::vector<RevocationTargetSpec>& targets) {
  nlohmann::json certificates = nlohmann::json::array();
  for (const auto& revoked : response.revoked()) {
    certificates.push_back({{"serial", HexEncode(revoked.serial())},
                            {"issuer", revoked.issuer()},
                            {"profile", revoked.profile()},
                            {"device_serial", revoked.device_serial().empty()
                                                  ? nlohmann::json()
                                                  : nlohmann::json(revoked.device_serial())},
                            {"reason", revoked.reason()},
                            {"target", Where(targets, revoked.target_index())}});
  }
  nlohmann::json by_issuer = nlohmann::json::object();
  for (const auto& [issuer, count] : RevokedByIssuer(response)) by_issuer[issuer] = count;
  std::cout << nlohmann::json{{"dry_run", response.dry_run()},
                              {"targets", targets.size()},
                              {"revoked_at", response.dry_run()
                                                 ? nlohmann::json()
                                                 : TimestampJson(response.revoked_at())},
                              {response.dry_run() ? "would_revoke" : "newly_revoked",
                               RevokedCount(response)},
                              {"certificates_not_listed", UnlistedCount(response)},
                              {"already_revoked", response.already_revoked()},
                              {"by_issuer", by_issuer},
                              {"certificates", certificates}}
                   .dump(2)
            << "\n";
}

void PrintText(const keyline::v1::RevokeResponse& response,
               const std::vector<RevocationTargetSpec>& targets) {
  if (response.revoked_size() > 0) {
    std::vector<std::vector<std::string>> rows = {
        {"SERIAL", "ISSUER", "PROFILE", "DEVICE", "REASON", "TARGET"}};
    rows.reserve(static_cast<size_t>(response.revoked_size()) + 1);
    for (const auto& revoked : response.revoked()) {
      rows.push_back({HexEncode(revoked.serial()), revoked.issuer(), revoked.profile(),
                      revoked.device_serial().empty() ? "-" : revoked.device_serial(),
                      revoked.reason(), Where(targets, revoked.target_index())});
    }
    PrintTable(std::cout, rows);
    if (UnlistedCount(response) > 0) {
      std::cout << "... and " << UnlistedCount(response)
                << " more, not listed (the audit log names each: keylinectl audit tail)\n";
    }
  }
  std::vector<std::string> issuers;
  for (const auto& [issuer, count] : RevokedByIssuer(response)) {
    issuers.push_back(absl::StrCat(issuer, " ", count));
  }
  const std::string by_issuer =
      issuers.empty() ? "" : absl::StrCat(" (by issuer: ", absl::StrJoin(issuers, ", "), ")");
  if (response.dry_run()) {
    std::cout << "dry run: " << RevokedCount(response) << " certificate(s) would be revoked"
              << by_issuer << ", " << response.already_revoked()
              << " already revoked; nothing changed\n";
  } else {
    std::cout << "revoked " << RevokedCount(response) << " certificate(s)" << by_issuer << ", "
              << response.already_revoked() << " already revoked";
    if (RevokedCount(response) > 0) {
      std::cout << ", at " << TimestampText(response.revoked_at());
    }
    std::cout << "\n";
  }
}

int RunRevoke(const GlobalOptions& globals, const RevokeOptions& options) {
  const OutputFormat format = globals.format();
  auto targets = CollectTargets(options);
  if (!targets.ok()) return ReportError(targets.status(), format);
  auto request = BuildRequest(options, *targets);
  if (!request.ok()) return ReportError(request.status(), format);
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);

  // RevokeWithProgress: Revoke's request and transaction, with the server's steps streamed.
  std::optional<keyline::v1::RevokeResponse> result;
  StepBar bar(targets->size(), options.dry_run);
  auto context = ContextWithDeadline(kTimeout);
  auto stream = AdminService::NewStub(*channel)->RevokeWithProgress(context.get(), *request);
  keyline::v1::RevokeProgress message;
  while (stream->Read(&message)) {
    if (message.has_step()) bar.Show(message.step());
    if (message.has_result()) result = std::move(*message.mutable_result());
  }
  bar.Finish();
  const absl::Status status = FromGrpc(stream->Finish());
  if (!status.ok()) return ReportError(LocateTargetError(status, *targets), format);
  if (!result) {
    return ReportError(absl::InternalError("keyline-server ended the revocation without a result"),
                       format);
  }
  const keyline::v1::RevokeResponse& response = *result;
  if (format == OutputFormat::kJson) {
    PrintJson(response, *targets);
  } else {
    PrintText(response, *targets);
  }
  return 0;
}

}  // namespace

void AddRevokeCommand(CLI::App& app, Invocation& invocation) {
  auto options = std::make_shared<RevokeOptions>();
  auto* command = app.add_subcommand(
      "revoke",
      "revoke certificates (by serial) or devices (all their certificates) in one transaction");
  command->footer(
      "Targets: --serial and --device may be repeated and mixed; --batch FILE instead takes one\n"
      "target a line:\n"
      "  serial <hex> [reason]\n"
      "  device <serial> [reason]\n"
      "('#' comment lines and blank lines skipped; a line's reason overrides --reason; a bare\n"
      "serial without its keyword is refused, since device serials may be hex too). The\n"
      "whole list is checked first (a bad line is named as FILE:LINE and nothing is sent), then\n"
      "revoked in ONE transaction of at most 100,000 targets: an unknown serial or device\n"
      "refuses all of it. Already revoked certificates are counted and left as they were.\n"
      "Reasons (RFC 5280): unspecified, keyCompromise, cACompromise, affiliationChanged,\n"
      "superseded, cessationOfOperation, privilegeWithdrawn, aACompromise.\n"
      "Manufacturers are revoked with `keylinectl manufacturer revoke`.\n"
      "Exit codes: 0 done (or nothing to do), 1 refused (nothing changed), 2 usage error.");
  auto* serial = command->add_option("--serial", options->serials,
                                     "a certificate serial number in hex (repeatable)");
  auto* device = command->add_option("--device", options->devices,
                                     "a device serial: revoke all its certificates (repeatable)");
  auto* batch = command->add_option("--batch", options->batch_file,
                                    "a file of targets, one a line (see below)");
  batch->excludes(serial)->excludes(device);
  command->add_option("--reason", options->reason,
                      "RFC 5280 reason name, e.g. keyCompromise (default unspecified)");
  command->add_option("--invalidity-date", options->invalidity_date,
                      "RFC 3339 time the key is known or suspected to have been compromised "
                      "(RFC 5280 5.3.2), e.g. 2026-03-01T12:00:00Z");
  command->add_flag("--dry-run", options->dry_run,
                    "show each certificate that would be revoked and the summary; change nothing");
  OnRun(command, invocation, [&invocation, options, serial, device, batch] {
    if (serial->count() == 0 && device->count() == 0 && batch->count() == 0) {
      return ReportUsageError("revoke: give --serial, --device or --batch");
    }
    return RunRevoke(invocation.globals, *options);
  });
}

}  // namespace keyline::cli
