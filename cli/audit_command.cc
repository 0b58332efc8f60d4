#include "cli/audit_command.h"

#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/audit_inputs.h"
#include "cli/audit_verifier.h"
#include "cli/progress.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "common/hex.h"
#include "common/status_macros.h"
#include "keyline/v1/admin.grpc.pb.h"

namespace keyline::cli {
namespace {

using keyline::v1::AdminService;
using keyline::v1::AuditRecord;

constexpr absl::Duration kPageTimeout = absl::Minutes(2);
constexpr int kRowsPerPage = 10000;  // the most ReadAuditLog returns a call
constexpr int kMaxTail = 10000;

// Reads one call's worth of the stream.
absl::StatusOr<std::vector<AuditRecord>> ReadPage(AdminService::Stub& stub,
                                                  const keyline::v1::ReadAuditLogRequest& request) {
  auto context = ContextWithDeadline(kPageTimeout);
  auto reader = stub.ReadAuditLog(context.get(), request);
  std::vector<AuditRecord> records;
  AuditRecord record;
  while (reader->Read(&record)) records.push_back(std::move(record));
  KEYLINE_RETURN_IF_ERROR(FromGrpc(reader->Finish()));
  return records;
}

std::string RecordTime(const AuditRecord& record) {
  return record.occurred_at_text().empty() ? TimestampText(record.occurred_at())
                                           : record.occurred_at_text();
}

int RunTail(const GlobalOptions& globals, int count) {
  const OutputFormat format = globals.format();
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  keyline::v1::ReadAuditLogRequest request;
  request.set_limit(count);
  request.set_newest_first(true);
  auto records = ReadPage(*AdminService::NewStub(*channel), request);
  if (!records.ok()) return ReportError(records.status(), format);

  if (format == OutputFormat::kJson) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& record : *records) {
      nlohmann::json details = nlohmann::json::parse(record.details_json(), nullptr, false);
      if (details.is_discarded()) details = record.details_json();
      list.push_back({{"seq", record.seq()},
                      {"occurred_at", RecordTime(record)},
                      {"actor", record.actor()},
                      {"action", record.action()},
                      {"target", record.target()},
                      {"details", details},
                      {"row_hash", HexEncode(record.row_hash())}});
    }
    std::cout << nlohmann::json{{"events", list}}.dump(2) << "\n";
    return 0;
  }
  if (records->empty()) {
    std::cout << "the audit log is empty\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"SEQ", "TIME", "ACTOR", "ACTION", "TARGET"}};
  for (const auto& record : *records) {
    rows.push_back({std::to_string(record.seq()), RecordTime(record), record.actor(),
                    record.action(), record.target()});
  }
  PrintTable(std::cout, rows);
  return 0;
}

// "SEQ:ROW_HASH" as verify prints the head (row_hash in hex). InvalidArgument naming the option.
absl::StatusOr<RecordedHead> ParseRecordedHead(std::string_view text) {
  const auto invalid = [] {
    return absl::InvalidArgumentError(
        "--known-head: expected SEQ:ROW_HASH as an earlier verify printed it (a seq of 1 or more, "
        "a SHA-256 in hex)");
  };
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return invalid();
  RecordedHead head;
  std::optional<std::string> hash = HexDecode(text.substr(colon + 1));
  if (!absl::SimpleAtoi(AsAbsl(text.substr(0, colon)), &head.seq) || head.seq < 1 || !hash ||
      hash->size() != 32) {
    return invalid();
  }
  head.row_hash = *std::move(hash);
  return head;
}

// Checks the signatures of the checkpoints, then reads every row page by page (after_seq) into
// the verifier. OK or the first problem (DataLoss naming the row).
absl::Status VerifyLog(AdminService::Stub& stub,
                       const keyline::v1::ListAuditCheckpointsResponse& listed,
                       const std::string& roots_pem, AuditLogVerifier& verifier) {
  if (verifier.checkpoint_count() > 0) {
    KEYLINE_ASSIGN_OR_RETURN(const EvpPkeyPtr key,
                             AuditSigningKey(listed.audit_certificate(), roots_pem));
    KEYLINE_RETURN_IF_ERROR(verifier.CheckSignatures(key.get()));
  }
  Progress progress =
      Progress::OnStderr("verifying audit rows", verifier.last_checkpoint_seq().value_or(0));
  keyline::v1::ReadAuditLogRequest request;
  request.set_limit(kRowsPerPage);
  while (true) {
    request.set_after_seq(verifier.last_seq());
    KEYLINE_ASSIGN_OR_RETURN(const auto records, ReadPage(stub, request));
    if (records.empty()) break;
    std::vector<store::AuditRow> rows;
    rows.reserve(records.size());
    for (const AuditRecord& record : records) {
      auto row = AuditRowFromRecord(record);
      if (!row.ok()) {
        // The rows before it come first: a problem among them is the first one.
        KEYLINE_RETURN_IF_ERROR(verifier.AddRows(rows));
        return row.status();
      }
      rows.push_back(*std::move(row));
    }
    const int64_t before = verifier.rows_verified();
    KEYLINE_RETURN_IF_ERROR(verifier.AddRows(rows));
    progress.Advance(verifier.rows_verified() - before);
  }
  progress.Finish();
  return verifier.Finish();
}

int RunVerify(const GlobalOptions& globals, const std::string& known_head,
              int max_checkpoint_gap_seconds, const std::string& checkpoints_since) {
  const OutputFormat format = globals.format();
  std::optional<RecordedHead> recorded_head;
  if (!known_head.empty()) {
    auto parsed = ParseRecordedHead(known_head);
    if (!parsed.ok()) return ReportError(parsed.status(), format);
    recorded_head = *std::move(parsed);
  }
  std::optional<absl::Time> since;
  if (!checkpoints_since.empty()) {
    absl::Time parsed;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, checkpoints_since, &parsed, &error)) {
      return ReportError(absl::InvalidArgumentError(absl::StrCat(
                             "--checkpoints-since: expected a time as verify printed it "
                             "(2026-11-30T01:02:03Z): ",
                             error)),
                         format);
    }
    if (max_checkpoint_gap_seconds == 0) {
      return ReportError(
          absl::InvalidArgumentError("--checkpoints-since: only with --max-checkpoint-gap"),
          format);
    }
    since = parsed;
  }
  if (globals.connection.ca_file.empty()) {
    return ReportError(absl::InvalidArgumentError(
                           "--ca: the root certificate the audit signer must chain to is required"),
                       format);
  }
  auto roots_pem = ReadFile(globals.connection.ca_file, 1 << 20);
  if (!roots_pem.ok()) return ReportError(roots_pem.status(), format);
  auto channel = Connect(globals.connection);
  if (!channel.ok()) return ReportError(channel.status(), format);
  auto stub = AdminService::NewStub(*channel);

  // Checkpoints first: each covers rows that exist now, so the rows read afterwards must reach it.
  keyline::v1::ListAuditCheckpointsResponse listed;
  auto context = ContextWithDeadline(kPageTimeout);
  if (auto status = stub->ListAuditCheckpoints(context.get(), {}, &listed); !status.ok()) {
    return ReportError(status, format);
  }
  std::vector<SignedCheckpoint> checkpoints;
  for (const auto& checkpoint : listed.checkpoints()) {
    checkpoints.push_back(CheckpointFromProto(checkpoint));
  }
  AuditLogVerifier verifier(std::move(checkpoints));
  if (recorded_head) verifier.ExpectHead(*recorded_head);
  if (max_checkpoint_gap_seconds > 0) {
    verifier.ExpectCheckpointsEvery(absl::Seconds(max_checkpoint_gap_seconds), absl::Now(), since);
  }
  if (auto status = VerifyLog(*stub, listed, *roots_pem, verifier); !status.ok()) {
    return ReportError(status, format);
  }

  const auto last_checkpoint = verifier.last_checkpoint_seq();
  const std::optional<absl::Time> newest_signed_at = verifier.newest_signed_at();
  const std::string head = absl::StrCat(verifier.last_seq(), ":", HexEncode(verifier.last_hash()));
  if (format == OutputFormat::kJson) {
    std::cout << nlohmann::json{{"intact", true},
                                {"rows", verifier.rows_verified()},
                                {"last_seq", verifier.last_seq()},
                                {"checkpoints", verifier.checkpoint_count()},
                                {"last_checkpoint_seq", last_checkpoint
                                                            ? nlohmann::json(*last_checkpoint)
                                                            : nlohmann::json(nullptr)},
                                {"newest_checkpoint_signed_at",
                                 newest_signed_at ? nlohmann::json(TimeText(*newest_signed_at))
                                                  : nlohmann::json(nullptr)},
                                {"head", head}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "audit log intact: " << verifier.rows_verified()
              << (verifier.rows_verified() == 1 ? " row, " : " rows, ")
              << verifier.checkpoint_count()
              << (verifier.checkpoint_count() == 1 ? " checkpoint" : " checkpoints");
    if (last_checkpoint) {
      std::cout << ", last checkpoint at seq " << *last_checkpoint;
      if (newest_signed_at) std::cout << ", newest signed " << TimeText(*newest_signed_at);
      std::cout << "\n";
    } else {
      std::cout << " (without a signed checkpoint, rows removed from the end cannot be "
                   "detected)\n";
    }
    // Checkpoints live in the database they vouch for; this line, kept elsewhere, does not.
    std::cout << "head: " << head << " (keep it outside the database; a later "
              << "`audit verify --known-head " << head << "` fails if rows up to it were dropped "
              << "or rewritten)\n";
    if (newest_signed_at) {
      std::cout << "checkpoints signed up to " << TimeText(*newest_signed_at)
                << " (keep it too; a later `audit verify --max-checkpoint-gap SECONDS "
                << "--checkpoints-since " << TimeText(*newest_signed_at)
                << "` fails if checkpoints from then on were removed)\n";
    }
  }
  return 0;
}

}  // namespace

void AddAuditCommands(CLI::App& app, Invocation& invocation) {
  auto* group = app.add_subcommand("audit", "the hash-chained audit log");
  group->require_subcommand(1);

  auto count = std::make_shared<int>(20);
  auto* tail_command = group->add_subcommand("tail", "the newest events, newest first");
  tail_command->add_option("-n,--count", *count, "how many events (default 20)")
      ->check(CLI::Range(1, kMaxTail));
  OnRun(tail_command, invocation,
        [&invocation, count] { return RunTail(invocation.globals, *count); });

  auto* verify_command = group->add_subcommand(
      "verify",
      "recompute the hash chain and check the signed checkpoints; names the first bad row");
  auto known_head = std::make_shared<std::string>();
  verify_command->add_option(
      "--known-head", *known_head,
      "SEQ:ROW_HASH, the head an earlier verify printed: the log must still hold that row");
  auto max_gap = std::make_shared<int>(0);
  verify_command
      ->add_option("--max-checkpoint-gap", *max_gap,
                   "SECONDS: fail if this long passed without a signed checkpoint, between the "
                   "first timed one and now (a running server signs one at least every "
                   "audit.checkpoint_refresh_seconds, idle or not)")
      ->check(CLI::Range(1, 365 * 86400));
  auto since = std::make_shared<std::string>();
  verify_command->add_option(
      "--checkpoints-since", *since,
      "TIME: with --max-checkpoint-gap, check from this time (the newest signing time an earlier "
      "verify printed, kept outside the database) rather than from the first timed checkpoint");
  OnRun(verify_command, invocation, [&invocation, known_head, max_gap, since] {
    return RunVerify(invocation.globals, *known_head, *max_gap, *since);
  });
}

}  // namespace keyline::cli
