// End to end: `keylinectl revoke` against a real keyline-server (PostgreSQL, SoftHSM2), checked
// by what the database holds afterwards; and `keylinectl status` (the binary, for its exit codes)
// against `openssl ocsp` as the responder.
//
// One Keyline for the suite; each test revokes certificates of its own (operators issued for it,
// devices manufactured for it), so the tests do not depend on their order.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "common/files.h"
#include "common/hex.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "tests/support/fleet.h"
#include "tests/support/subprocess.h"

namespace keyline {
namespace {

using ::testing::ContainsRegex;
using testing::Fleet;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ProcessResult;

// A serial no Keyline issued: Keyline's serials are 16 octets with the top bits 01.
constexpr char kUnknownSerial[] = "0badc0ffee0000000000000000000001";

class RevocationCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto fleet = Fleet::Create({}, "revocation-cli-se");
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = fleet->release();
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }

  static testing::KeylineEnvironment& Environment() { return fleet_->environment(); }

  static ProcessResult Keylinectl(const std::vector<std::string>& arguments,
                                  const std::optional<testing::OperatorCredential>& who) {
    auto result = Environment().Keylinectl(arguments, who);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ProcessResult{};
  }
  static ProcessResult Keylinectl(const std::vector<std::string>& arguments) {
    return Keylinectl(arguments, Environment().admin());
  }

  // A fresh factory operator certificate; returns its serial in hex.
  static std::string IssueOperator(const std::string& name) {
    const std::string base = absl::StrCat(Environment().directory(), "/", name);
    const ProcessResult issued =
        Keylinectl({"--output", "json", "operator", "issue", "--role", "factory", "--name", name,
                    "--out-key", base + ".key", "--out-cert", base + ".crt"});
    EXPECT_EQ(issued.exit_code, 0) << issued.err;
    if (issued.exit_code != 0) return "";
    return nlohmann::json::parse(issued.out)["serial"].get<std::string>();
  }

  static int64_t Count(const std::string& sql) { return fleet_->Count(sql); }

  static std::string Status(const std::string& serial_hex) {
    pqxx::connection connection(Environment().database().owner_url);
    pqxx::work transaction(connection);
    const auto row = transaction.exec_params1(
        "SELECT status || '/' || coalesce(revocation_reason::text, '-') || '/' || "
        "coalesce(extract(epoch FROM revoked_at)::text, '-') FROM certificates "
        "WHERE serial = decode($1, 'hex')",
        serial_hex);
    return row[0].as<std::string>();
  }

  static int64_t Revoked() {
    return Count("SELECT count(*) FROM certificates WHERE status = 'revoked'");
  }
  static int64_t AuditRows() { return Count("SELECT count(*) FROM audit_log"); }

  // The i-th serial of a bulk batch: the prefix octet, then i in 15 octets (as the SQL below).
  static std::string BulkSerialHex(const std::string& prefix_hex, int i) {
    return absl::StrCat(prefix_hex, absl::StrFormat("%030x", i));
  }

  // `count` operator certificates made with SQL (issuing that many would take long), serials
  // <prefix byte> followed by 1..count in 15 octets; returns the batch file naming them all.
  static std::string InsertBulkCertificates(const std::string& prefix_hex, int count) {
    pqxx::connection connection(Environment().database().owner_url);
    pqxx::work transaction(connection);
    transaction.exec_params(
        "INSERT INTO certificates (serial, issuer_id, profile, subject, not_before, not_after, "
        "der) SELECT decode($2 || lpad(to_hex(g), 30, '0'), 'hex'), "
        "(SELECT id FROM certificate_authorities WHERE name = 'operators'), 'operator', "
        "'urn:keyline:bulk:' || $2 || ':' || g, now(), now() + interval '1 day', '\\x30'::bytea "
        "FROM generate_series(1, $1) g",
        count, prefix_hex);
    transaction.commit();
    std::string text = "# generated\n";
    for (int i = 1; i <= count; ++i) {
      absl::StrAppend(&text, "serial ", BulkSerialHex(prefix_hex, i), "\n");
    }
    return WriteBatch(absl::StrCat("bulk-", prefix_hex, ".txt"), text);
  }

  static keyline::v1::RevokeRequest BulkRequest(const std::string& prefix_hex, int count,
                                                bool dry_run) {
    keyline::v1::RevokeRequest request;
    for (int i = 1; i <= count; ++i) {
      request.add_targets()->set_certificate_serial(*HexDecode(BulkSerialHex(prefix_hex, i)));
    }
    request.set_dry_run(dry_run);
    return request;
  }

  static std::string WriteBatch(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(Environment().directory(), "/", name);
    EXPECT_TRUE(WriteFileAtomically(path, text).ok());
    return path;
  }

  static Fleet* fleet_;
};

Fleet* RevocationCliTest::fleet_ = nullptr;

TEST_F(RevocationCliTest, RevokesBySerialAndRevokingAgainChangesNothing) {
  const std::string first = IssueOperator("revoke-a");
  const std::string second = IssueOperator("revoke-b");
  const int64_t audit = AuditRows();

  const ProcessResult revoked =
      Keylinectl({"revoke", "--serial", first, "--serial", second, "--reason", "keycompromise"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_THAT(revoked.out, HasSubstr(first));
  EXPECT_THAT(revoked.out, ContainsRegex("operators +operator +- +keyCompromise +--serial #2"));
  EXPECT_THAT(revoked.out,
              HasSubstr("revoked 2 certificate(s) (by issuer: operators 2), 0 already revoked"));
  EXPECT_THAT(revoked.err, IsEmpty());  // not a terminal: no progress line
  EXPECT_THAT(Status(first), ::testing::StartsWith("revoked/1/"));
  EXPECT_THAT(Status(second), ::testing::StartsWith("revoked/1/"));
  EXPECT_EQ(AuditRows(), audit + 2);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM audit_log WHERE action = "
                               "'certificate.revoked' AND target = '",
                               first, "'")),
            1);

  // Again, with another reason: counted as already revoked; the first reason and time stand.
  const std::string before = Status(first);
  const ProcessResult again = Keylinectl({"--output", "json", "revoke", "--serial", first,
                                          "--serial", second, "--reason", "superseded"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto json = nlohmann::json::parse(again.out);
  EXPECT_EQ(json["newly_revoked"], 0);
  EXPECT_EQ(json["already_revoked"], 2);
  EXPECT_EQ(json["dry_run"], false);
  EXPECT_TRUE(json["certificates"].empty());
  EXPECT_EQ(Status(first), before);
  EXPECT_EQ(AuditRows(), audit + 2);
}

TEST_F(RevocationCliTest, AnUnknownSerialRefusesTheWholeListNamingIt) {
  const std::string known = IssueOperator("revoke-c");
  const int64_t revoked = Revoked();
  const int64_t audit = AuditRows();
  const ProcessResult result =
      Keylinectl({"revoke", "--serial", known, "--serial", kUnknownSerial});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("error: NOT_FOUND: --serial #2: targets[1]"));
  EXPECT_THAT(result.err, HasSubstr(kUnknownSerial));
  EXPECT_THAT(result.out, IsEmpty());
  EXPECT_THAT(Status(known), ::testing::StartsWith("good/"));
  EXPECT_EQ(Revoked(), revoked);
  EXPECT_EQ(AuditRows(), audit);
}

TEST_F(RevocationCliTest, BadArgumentsAreRefusedBeforeAnythingIsSent) {
  const std::string serial = IssueOperator("revoke-d");
  const int64_t audit = AuditRows();
  const struct {
    std::vector<std::string> arguments;
    std::string expected;
  } cases[] = {
      {{"revoke", "--serial", serial, "--reason", "bogus"}, "--reason: unknown reason \"bogus\""},
      {{"revoke", "--serial", serial, "--reason", "certificateHold"}, "is not supported"},
      {{"revoke", "--serial", "0x" + serial}, "--serial #1: serial \"0x"},
      {{"revoke", "--serial", serial, "--serial", serial}, "--serial #2: serial"},
      {{"revoke", "--device", "bad/device"}, "--device #1"},
      {{"revoke", "--serial", serial, "--invalidity-date", "yesterday"},
       "--invalidity-date: \"yesterday\" is not RFC 3339"},
      {{"revoke", "--serial", serial, "--invalidity-date", "2999-01-01T00:00:00Z"},
       "is in the future"},
  };
  for (const auto& [arguments, expected] : cases) {
    // An unreachable server proves that nothing was sent: the local check answers first.
    const testing::OperatorCredential admin = Environment().admin();
    std::vector<std::string> unreachable = {testing::KeylineEnvironment::Program("keylinectl"),
                                            "--server",
                                            "127.0.0.1:1",
                                            "--ca",
                                            Environment().root_file(),
                                            "--cert",
                                            admin.certificate_file,
                                            "--key",
                                            admin.key_file};
    unreachable.insert(unreachable.end(), arguments.begin(), arguments.end());
    auto run = testing::RunProcess(unreachable);
    ASSERT_TRUE(run.ok()) << run.status();
    const ProcessResult& result = *run;
    EXPECT_EQ(result.exit_code, 1) << expected << "\n" << result.err;
    EXPECT_THAT(result.err, HasSubstr("error: INVALID_ARGUMENT: ")) << expected;
    EXPECT_THAT(result.err, HasSubstr(expected));
  }
  // Usage errors: no target; --batch with --serial.
  EXPECT_EQ(Keylinectl({"revoke", "--reason", "keyCompromise"}).exit_code, 2);
  EXPECT_EQ(Keylinectl({"revoke", "--batch", "x.txt", "--serial", serial}).exit_code, 2);
  EXPECT_THAT(Status(serial), ::testing::StartsWith("good/"));
  EXPECT_EQ(AuditRows(), audit);
}

TEST_F(RevocationCliTest, ABatchWithABadLineIsRefusedNamingTheLine) {
  const std::string serial = IssueOperator("revoke-e");
  const std::string batch = WriteBatch(
      "bad.txt", absl::StrCat("# two targets\nserial ", serial, " keyCompromise\n\nserial ",
                              serial.substr(0, 30), "zz\n"));
  const int64_t audit = AuditRows();
  const ProcessResult result = Keylinectl({"revoke", "--batch", batch});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr(batch + ":4: serial"));
  EXPECT_THAT(result.err, HasSubstr("is not hexadecimal"));
  EXPECT_THAT(Status(serial), ::testing::StartsWith("good/"));
  EXPECT_EQ(AuditRows(), audit);

  // A server refusal (unknown device) is mapped back to its line too.
  const std::string unknown_device =
      WriteBatch("unknown.txt", absl::StrCat("serial ", serial, "\ndevice no-such-device\n"));
  const ProcessResult refused = Keylinectl({"revoke", "--batch", unknown_device});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr(absl::StrCat("error: NOT_FOUND: ", unknown_device,
                                                  ":2: targets[1].device_serial: no device")));
  EXPECT_THAT(Status(serial), ::testing::StartsWith("good/"));
  EXPECT_EQ(AuditRows(), audit);
}

TEST_F(RevocationCliTest, BatchDryRunShowsExactlyWhatTheRealRunThenDoes) {
  auto devices = fleet_->Manufacture("revoke-dry", 1);
  ASSERT_TRUE(devices.ok()) << devices.status();
  ASSERT_TRUE(fleet_->Claim(*devices).ok());
  ASSERT_TRUE(testing::Enroll(fleet_->Anonymous(), (*devices)[0], fleet_->secure_element()).ok());
  const std::string device = (*devices)[0].serial;
  const int64_t device_certificates =
      Count(absl::StrCat("SELECT count(*) FROM certificates WHERE device_serial = '", device, "'"));
  ASSERT_EQ(device_certificates, 2);  // attestation + deployment

  const std::string fresh = IssueOperator("revoke-f");
  const std::string old = IssueOperator("revoke-g");
  ASSERT_EQ(Keylinectl({"revoke", "--serial", old}).exit_code, 0);
  const std::string batch = WriteBatch(
      "dry.txt", absl::StrCat("serial ", fresh, " keyCompromise\n# the whole device\ndevice ",
                              device, " cessationOfOperation\nserial ", old, "\n"));

  const int64_t revoked = Revoked();
  const int64_t audit = AuditRows();
  const ProcessResult dry = Keylinectl({"revoke", "--batch", batch, "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out,
              ContainsRegex(fresh + " +operators +operator +- +keyCompromise +" + batch + ":1"));
  EXPECT_THAT(dry.out, ContainsRegex("manufacturer/keyline +attestation[a-z-]* +" + device +
                                     " +cessationOfOperation +" + batch + ":3"));
  EXPECT_THAT(dry.out, ContainsRegex("deployment/default +[a-z-]+ +" + device +
                                     " +cessationOfOperation +" + batch + ":3"));
  EXPECT_THAT(dry.out, HasSubstr("dry run: 3 certificate(s) would be revoked (by issuer: "
                                 "deployment/default 1, manufacturer/keyline 1, operators 1), "
                                 "1 already revoked; nothing changed"));
  EXPECT_EQ(Revoked(), revoked);
  EXPECT_EQ(AuditRows(), audit);
  EXPECT_THAT(Status(fresh), ::testing::StartsWith("good/"));

  // A second dry run sees the same: the first changed nothing.
  const ProcessResult second = Keylinectl({"revoke", "--batch", batch, "--dry-run"});
  EXPECT_EQ(second.out, dry.out);

  const ProcessResult json_dry =
      Keylinectl({"--output", "json", "revoke", "--batch", batch, "--dry-run"});
  ASSERT_EQ(json_dry.exit_code, 0) << json_dry.err;
  const auto planned = nlohmann::json::parse(json_dry.out);
  EXPECT_EQ(planned["dry_run"], true);
  EXPECT_EQ(planned["would_revoke"], 3);
  EXPECT_EQ(planned["already_revoked"], 1);
  EXPECT_TRUE(planned["revoked_at"].is_null());
  EXPECT_EQ(planned["by_issuer"]["operators"], 1);

  // The real run revokes exactly those.
  const ProcessResult real = Keylinectl({"--output", "json", "revoke", "--batch", batch});
  ASSERT_EQ(real.exit_code, 0) << real.err;
  const auto done = nlohmann::json::parse(real.out);
  EXPECT_EQ(done["newly_revoked"], 3);
  EXPECT_EQ(done["already_revoked"], 1);
  EXPECT_EQ(done["certificates"], planned["certificates"]);
  EXPECT_EQ(Revoked(), revoked + 3);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM certificates WHERE device_serial = '", device,
                               "' AND status = 'revoked' AND revocation_reason = 5")),
            2);
  EXPECT_THAT(Status(fresh), ::testing::StartsWith("revoked/1/"));
  // One audit event per target that changed something (the serial and the device).
  EXPECT_EQ(AuditRows(), audit + 2);
}

TEST_F(RevocationCliTest, RevokesEveryCertificateOfADevice) {
  auto devices = fleet_->Manufacture("revoke-dev", 2);
  ASSERT_TRUE(devices.ok()) << devices.status();
  ASSERT_TRUE(fleet_->Claim(*devices).ok());
  for (auto& device : *devices) {
    ASSERT_TRUE(testing::Enroll(fleet_->Anonymous(), device, fleet_->secure_element()).ok());
  }
  const std::string target = (*devices)[0].serial;
  const std::string bystander = (*devices)[1].serial;
  const std::string past =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() - absl::Hours(6), absl::UTCTimeZone());
  const ProcessResult result = Keylinectl(
      {"revoke", "--device", target, "--reason", "keyCompromise", "--invalidity-date", past});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("revoked 2 certificate(s)"));
  EXPECT_THAT(result.out, HasSubstr("--device #1"));
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM certificates WHERE device_serial = '", target,
                               "' AND status = 'revoked' AND invalidity_date IS NOT NULL")),
            2);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM certificates WHERE device_serial = '",
                               bystander, "' AND status = 'revoked'")),
            0);
  // What GetDevice reports afterwards is still the device (revoking does not decommission).
  auto described = fleet_->Describe(target);
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(described->certificate_serials_size(), 2);
}

TEST_F(RevocationCliTest, OnlyAdminsMayRevoke) {
  const std::string serial = IssueOperator("revoke-h");
  const int64_t audit = AuditRows();
  const ProcessResult result = Keylinectl({"revoke", "--serial", serial}, fleet_->factory());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(result.err, HasSubstr("/keyline.v1.AdminService/Revoke"));
  EXPECT_THAT(Status(serial), ::testing::StartsWith("good/"));
  EXPECT_EQ(AuditRows(), audit);
}

// The server's limit in one call and one transaction: 100,000 certificates (rows made with SQL,
// as issuing that many would take long), dry run then revocation. Prints the times.
TEST_F(RevocationCliTest, AHundredThousandTargetsInOneTransaction) {
  constexpr int kTargets = 100'000;
  const std::string batch = InsertBulkCertificates("7e", kTargets);
  const int64_t revoked = Revoked();

  absl::Time start = absl::Now();
  const ProcessResult dry =
      Keylinectl({"--output", "json", "revoke", "--batch", batch, "--dry-run"});
  const absl::Duration dry_time = absl::Now() - start;
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(nlohmann::json::parse(dry.out)["would_revoke"], kTargets);
  EXPECT_EQ(Revoked(), revoked);

  start = absl::Now();
  const ProcessResult real =
      Keylinectl({"--output", "json", "revoke", "--batch", batch, "--reason", "superseded"});
  const absl::Duration real_time = absl::Now() - start;
  ASSERT_EQ(real.exit_code, 0) << real.err;
  const auto done = nlohmann::json::parse(real.out);
  EXPECT_EQ(done["newly_revoked"], kTargets);
  EXPECT_EQ(done["by_issuer"]["operators"], kTargets);
  // A recall can revoke millions: the answer lists the first 10,000 and counts the rest, so that
  // it never outgrows a message limit after the revocation committed.
  EXPECT_EQ(done["certificates"].size(), 10'000u);
  EXPECT_EQ(done["certificates_not_listed"], kTargets - 10'000);
  EXPECT_EQ(Revoked(), revoked + kTargets);
  std::cerr << kTargets << " targets: dry run " << absl::ToDoubleSeconds(dry_time)
            << " s, revocation " << absl::ToDoubleSeconds(real_time) << " s (keylinectl, "
            << "end to end)\n";
}

// AdminService.RevokeWithProgress, as keylinectl calls it: steps in order while the server works,
// then exactly one result, the last message; a dry run stops after checking.
TEST_F(RevocationCliTest, TheProgressStreamReportsStepsInOrderThenTheResult) {
  constexpr int kTargets = 20'000;
  InsertBulkCertificates("7d", kTargets);
  const std::vector<std::string> order = {"locking", "checking", "updating", "recording",
                                          "committing"};
  auto stub = keyline::v1::AdminService::NewStub(fleet_->Admin());
  for (const bool dry_run : {true, false}) {
    SCOPED_TRACE(dry_run ? "dry run" : "revocation");
    const int64_t revoked = Revoked();
    grpc::ClientContext context;
    auto stream = stub->RevokeWithProgress(&context, BulkRequest("7d", kTargets, dry_run));
    keyline::v1::RevokeProgress message;
    std::vector<std::string> steps;
    int results = 0;
    bool result_last = false;
    size_t last_index = 0;
    while (stream->Read(&message)) {
      result_last = message.has_result();
      if (message.has_result()) {
        ++results;
        EXPECT_EQ(message.result().revoked_count(), kTargets);
        EXPECT_EQ(message.result().revoked_size(), 10'000) << "the first 10,000 are listed";
        EXPECT_EQ(message.result().dry_run(), dry_run);
        continue;
      }
      ASSERT_TRUE(message.has_step());
      const auto found = std::find(order.begin(), order.end(), message.step().step());
      ASSERT_NE(found, order.end()) << message.step().step();
      const size_t index = static_cast<size_t>(found - order.begin());
      EXPECT_GE(index, last_index) << message.step().step() << " after " << order[last_index];
      last_index = index;
      EXPECT_LE(message.step().done(), message.step().total());
      if (steps.empty() || steps.back() != message.step().step()) {
        steps.push_back(message.step().step());
      }
    }
    const grpc::Status status = stream->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(results, 1);
    EXPECT_TRUE(result_last);
    EXPECT_FALSE(steps.empty());
    if (dry_run) {
      EXPECT_LE(last_index, 1u) << "a dry run went past checking";
      EXPECT_EQ(Revoked(), revoked);
    } else {
      EXPECT_EQ(Revoked(), revoked + kTargets);
    }
  }
}

// A client that goes away mid-batch stops it; the transaction rolls back and nothing changes.
TEST_F(RevocationCliTest, ABatchWhoseCallerGoesAwayChangesNothing) {
  constexpr int kTargets = 50'000;
  InsertBulkCertificates("7c", kTargets);
  const int64_t revoked = Revoked();
  const int64_t audit = AuditRows();
  auto stub = keyline::v1::AdminService::NewStub(fleet_->Admin());
  {
    grpc::ClientContext context;
    auto stream = stub->RevokeWithProgress(&context, BulkRequest("7c", kTargets, false));
    keyline::v1::RevokeProgress message;
    ASSERT_TRUE(stream->Read(&message));
    ASSERT_TRUE(message.has_step()) << "the batch finished before its first step was reported";
    context.TryCancel();
    while (stream->Read(&message)) {
    }
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // A dry run over the same rows waits for their locks, so it answers only once the abandoned
  // transaction has ended: every target is still revocable.
  grpc::ClientContext context;
  keyline::v1::RevokeResponse response;
  const grpc::Status status = stub->Revoke(&context, BulkRequest("7c", kTargets, true), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.revoked_count(), kTargets);
  EXPECT_EQ(Revoked(), revoked);
  EXPECT_EQ(AuditRows(), audit);
}

// On a terminal (a pseudo-terminal made by script(1)), keylinectl draws the server's steps as a
// bar, then erases it and prints the summary.
TEST_F(RevocationCliTest, DrawsAProgressBarOnATerminal) {
  constexpr int kTargets = 20'000;
  const std::string batch = InsertBulkCertificates("7b", kTargets);
  const auto admin = Environment().admin();
  std::string command = testing::KeylineEnvironment::Program("keylinectl");
  for (const std::string& argument :
       {std::string("--server"), Environment().target(), std::string("--ca"),
        Environment().root_file(), std::string("--cert"), admin.certificate_file,
        std::string("--key"), admin.key_file, std::string("revoke"), std::string("--batch"),
        batch}) {
    absl::StrAppend(&command, " '", argument, "'");
  }
  auto result = testing::RunProcess({"script", "-qec", command, "/dev/null"});
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->exit_code, 0) << result->out << result->err;
  // A server step with its bar, e.g. "\rrevoking: recording [######    ] 8000/20000 (40%)".
  EXPECT_THAT(result->out,
              ContainsRegex("revoking: (locking|checking|updating|recording|committing) "
                            "\\[[# ]+\\] [0-9]+/[0-9]+ \\([0-9]+%\\)"));
  EXPECT_THAT(result->out, HasSubstr("revoked 20000 certificate(s) (by issuer: operators 20000)"));
}

// Revoked through keylinectl, seen through keylinectl status at Keyline's own OCSP responder
// (DESIGN.md: answers change within one second).
TEST_F(RevocationCliTest, StatusSeesTheRevocationAtKeylinesResponder) {
  const std::string serial = IssueOperator("status-a");
  // The operator certificate file holds the leaf, then the operators CA that issued it.
  auto chain_pem = ReadFile(absl::StrCat(Environment().directory(), "/status-a.crt"));
  ASSERT_TRUE(chain_pem.ok()) << chain_pem.status();
  auto chain = ca::PemToDerChain(*chain_pem);
  ASSERT_TRUE(chain.ok() && chain->size() >= 2);
  const std::string issuer = absl::StrCat(Environment().directory(), "/operators-ca.pem");
  ASSERT_TRUE(WriteFileAtomically(issuer, ca::DerToPem((*chain)[1])).ok());
  const std::string url = Environment().status_url() + "/ocsp";
  auto status = [&](bool nonce) {
    std::vector<std::string> arguments = {"status", serial, "--issuer", issuer, "--url", url};
    if (!nonce) arguments.push_back("--no-nonce");
    return Keylinectl(arguments, std::nullopt);
  };

  // Issued a moment ago: the responder learns of it through the status feed like every replica
  // (DESIGN.md: within a second), and answers `unknown` (exit 2) until then. After the 100,000
  // revocations of the test before, that feed may still be busy.
  const absl::Time issued = absl::Now();
  ProcessResult good;
  do {
    good = status(true);
  } while (good.exit_code == 2 && absl::Now() - issued < absl::Seconds(10));
  std::cerr << "status good after " << absl::ToDoubleMilliseconds(absl::Now() - issued)
            << " ms\n";
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_THAT(good.out, ContainsRegex("status: +good"));
  EXPECT_THAT(good.out, ContainsRegex("nonce: +matched"));

  ASSERT_EQ(Keylinectl({"revoke", "--serial", serial, "--reason", "keyCompromise"}).exit_code, 0);
  const absl::Time revoked = absl::Now();
  ProcessResult answer;
  for (bool nonce : {true, false}) {  // freshly signed, then the responder's pre-signed answer
    do {
      answer = status(nonce);
    } while (answer.exit_code == 0 && absl::Now() - revoked < absl::Seconds(10));
    EXPECT_EQ(answer.exit_code, 1) << answer.out << answer.err;
    EXPECT_THAT(answer.out, ContainsRegex("reason: +keyCompromise"));
    std::cerr << "status revoked (" << (nonce ? "nonce" : "pre-signed") << ") after "
              << absl::ToDoubleMilliseconds(absl::Now() - revoked) << " ms\n";
  }
  EXPECT_LT(absl::Now() - revoked, absl::Seconds(5));

  const ProcessResult unknown = Keylinectl(
      {"status", kUnknownSerial, "--issuer", issuer, "--url", url}, std::nullopt);
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;  // RFC 6960 2.2 unknown
  EXPECT_THAT(unknown.out, ContainsRegex("status: +unknown"));
}


// ---- keylinectl status, the binary: exit codes against `openssl ocsp` -------------------------

TEST(StatusCommandTest, ExitCodesAgainstOpensslOcsp) {
  char pattern[] = "/tmp/keyline-status-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  auto openssl = [&dir](std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {"env", "-C", dir, "openssl"});
    auto result = testing::RunProcess(arguments);
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(result->exit_code, 0) << result->err;
  };
  // A CA that answers for itself (the simplest responder: no delegation).
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Status Test CA", "-days", "2",
           "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
           "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"});
  const std::string expiry =
      absl::FormatTime("%y%m%d%H%M%SZ", absl::Now() + absl::Hours(24 * 30), absl::UTCTimeZone());
  const std::string revoked =
      absl::FormatTime("%y%m%d%H%M%SZ", absl::Now() - absl::Hours(1), absl::UTCTimeZone());
  ASSERT_TRUE(
      WriteFileAtomically(dir + "/index.txt",
                          absl::StrCat("V\t", expiry, "\t\t4A01\tunknown\t/CN=a\n", "R\t", expiry,
                                       "\t", revoked, ",superseded\t4A02\tunknown\t/CN=b\n"))
          .ok());
  const int port = testing::PickFreePort();
  auto responder = testing::ChildProcess::Spawn(
      {"env", "-C", dir, "openssl", "ocsp", "-index", "index.txt", "-port", std::to_string(port),
       "-CA", "ca.pem", "-rsigner", "ca.pem", "-rkey", "ca.key", "-nmin", "10"},
      dir + "/responder.log");
  ASSERT_TRUE(responder.ok()) << responder.status();
  // Ready once it reports listening (a probe connection would wedge openssl 3.0's responder).
  for (int attempt = 0; attempt < 400; ++attempt) {
    auto log = ReadFile(dir + "/responder.log");
    if (log.ok() && log->find("ACCEPT") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  const std::string url = absl::StrCat("http://localhost:", port, "/ocsp");
  auto status = [&](std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), testing::KeylineEnvironment::Program("keylinectl"));
    auto result = testing::RunProcess(arguments, {{"KEYLINE_OCSP_URL", ""}});
    EXPECT_TRUE(result.ok());
    return result.ok() ? *result : ProcessResult{};
  };
  const ProcessResult good = status({"status", "4a01", "--issuer", dir + "/ca.pem", "--url", url});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_THAT(good.out, ContainsRegex("status: +good"));
  EXPECT_THAT(good.out, ContainsRegex("responder: +CN=Status Test CA"));

  const ProcessResult gone =
      status({"--output", "json", "status", "4A02", "--issuer", dir + "/ca.pem", "--url", url});
  EXPECT_EQ(gone.exit_code, 1) << gone.err;
  EXPECT_EQ(nlohmann::json::parse(gone.out)["reason"], "superseded");

  const ProcessResult unknown =
      status({"status", "4a03", "--issuer", dir + "/ca.pem", "--url", url, "--sha256"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_THAT(unknown.out, ContainsRegex("status: +unknown"));

  const ProcessResult garbage =
      status({"status", "4a01", "--issuer", dir + "/ca.pem", "--url", "garbage"});
  EXPECT_EQ(garbage.exit_code, 3);
  EXPECT_THAT(garbage.err, HasSubstr("error: INVALID_ARGUMENT: url: \"garbage\""));
  // Usage errors exit 3 too, never 2 ("unknown").
  EXPECT_EQ(status({"status", "4a01", "--issuer", dir + "/ca.pem", "--bogus"}).exit_code, 3);
  EXPECT_EQ(status({"status", "4a01", "--issuer"}).exit_code, 3);
  EXPECT_EQ(
      status({"status", "4a01", "--issuer", dir + "/ca.pem", "--url", url, "--timeout", "soon"})
          .exit_code,
      3);
  EXPECT_EQ(status({"status", "--help"}).exit_code, 0);
  (void)testing::RunProcess({"rm", "-rf", dir});
}

}  // namespace
}  // namespace keyline
