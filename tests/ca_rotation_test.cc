// Deployment CA rotation end to end (DESIGN.md, "CA rotation"): `keylinectl ca
// rotate` against a real keyline-server (PostgreSQL, SoftHSM2). A device
// enrolled before and one enrolled after both verify with `openssl verify`; a
// renewal moves a device to the new CA; the old CA signs no device certificate
// afterwards but keeps its CRL and OCSP, also after a restart.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/serial_number.h"
#include "ca/software_key.h"
#include "common/files.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "tests/support/fleet.h"
#include "tests/support/ocsp_answer.h"
#include "tests/support/relying_party.h"

namespace keyline {
namespace {

using ::testing::ContainsRegex;
using testing::EnrollmentOptions;
using testing::Fleet;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ProcessResult;
using testing::SimulatedDevice;

class CaRotationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::KeylineEnvironment::Options options;
    options.status_yaml =
        "  crl_delta_interval_seconds: 1\n  crl_full_interval_seconds: 1\n"
        "  resync_interval_seconds: 1\n";
    auto fleet = Fleet::Create(options, "ca-rotation-se");
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = fleet->release();
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }
  static testing::KeylineEnvironment& Environment() { return fleet_->environment(); }

  static std::vector<SimulatedDevice> ManufactureAndClaim(const std::string& prefix, int count) {
    auto devices = fleet_->ManufactureAndClaim(prefix, count);
    EXPECT_TRUE(devices.ok()) << devices.status();
    return devices.ok() ? *std::move(devices) : std::vector<SimulatedDevice>{};
  }

  static keyline::v1::IssuedCertificate Enroll(SimulatedDevice& device,
                                               const keyline::v1::IssuedCertificate* renew_with) {
    EnrollmentOptions options;
    options.software_deployment_key = true;
    std::shared_ptr<grpc::Channel> channel = fleet_->Anonymous();
    if (renew_with != nullptr) {
      options.renew = true;
      channel = fleet_->Device(device, *renew_with);
    }
    auto enrolled = testing::Enroll(channel, device, fleet_->secure_element(), options);
    EXPECT_TRUE(enrolled.ok()) << enrolled.status();
    return enrolled.ok() ? enrolled->certificate() : keyline::v1::IssuedCertificate{};
  }

  static std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = absl::StrCat(Environment().directory(), "/", name);
    EXPECT_TRUE(WriteFileAtomically(path, contents).ok());
    return path;
  }

  static ProcessResult Run(const std::vector<std::string>& argv) {
    auto result = testing::RunProcess(argv);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ProcessResult{};
  }

  // `openssl verify` of a device certificate with its intermediate, against
  // Keyline's root.
  static ProcessResult OpensslVerify(const keyline::v1::IssuedCertificate& issued,
                                     const std::string& name) {
    const std::string leaf = Write(name + ".pem", ca::DerToPem(issued.certificate()));
    const std::string intermediate = Write(name + "-ca.pem", ca::DerToPem(issued.chain(0)));
    return Run({"openssl", "verify", "-CAfile", Environment().root_file(), "-untrusted",
                intermediate, leaf});
  }

  // keylinectl status at Keyline's responder: exit 0 good, 1 revoked, 2
  // unknown.
  static ProcessResult Status(const keyline::v1::IssuedCertificate& issued,
                              const std::string& name) {
    const std::string issuer = Write(name + "-issuer.pem", ca::DerToPem(issued.chain(0)));
    auto result = Environment().Keylinectl({"status", issued.serial(), "--issuer", issuer, "--url",
                                            Environment().status_url() + "/ocsp", "--no-nonce"},
                                           std::nullopt);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ProcessResult{};
  }

  // The CRL the server serves at `file`, as `openssl crl -text` prints it.
  static std::string CrlText(const std::string& file) {
    const std::string path = absl::StrCat(Environment().directory(), "/", file);
    const ProcessResult fetched =
        Run({"curl", "-sf", "-o", path, absl::StrCat(Environment().status_url(), "/crl/", file)});
    if (fetched.exit_code != 0) return "";
    return Run({"openssl", "crl", "-inform", "DER", "-in", path, "-noout", "-text"}).out;
  }

  static nlohmann::json Rotate(const std::string& deployment) {
    auto result =
        Environment().Keylinectl({"--output", "json", "ca", "rotate", "--deployment", deployment});
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return {};
    EXPECT_EQ(result->exit_code, 0) << result->out << result->err;
    return nlohmann::json::parse(result->out, nullptr,
                                 /*allow_exceptions=*/false);
  }

  static Fleet* fleet_;
};

Fleet* CaRotationTest::fleet_ = nullptr;

TEST_F(CaRotationTest, DevicesBeforeAndAfterVerifyRenewalsMoveAndTheOldCaKeepsItsStatus) {
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("rotation", 3);
  ASSERT_EQ(devices.size(), 3u);
  const keyline::v1::IssuedCertificate before = Enroll(devices[0], nullptr);
  const keyline::v1::IssuedCertificate renewing = Enroll(devices[1], nullptr);
  ASSERT_FALSE(before.serial().empty());
  ASSERT_FALSE(renewing.serial().empty());
  const std::string old_ca_der = before.chain(0);

  const nlohmann::json rotated = Rotate("default");
  ASSERT_TRUE(rotated.is_object());
  EXPECT_EQ(rotated["retired"]["name"], "deployment/default");
  EXPECT_EQ(rotated["retired"]["status"], "retired");
  EXPECT_EQ(rotated["active"]["name"], "deployment/default:2");
  EXPECT_EQ(rotated["active"]["status"], "active");
  EXPECT_THAT(rotated["active"]["certificate"]["subject"].get<std::string>(),
              HasSubstr("Deployment CA default G2"));
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM audit_log WHERE action = 'ca.rotated' AND "
                          "target = 'deployment/default:2' AND "
                          "details->>'retired' = 'deployment/default'"),
            1);

  // New devices get the new CA at once; renewals move to it.
  const keyline::v1::IssuedCertificate after = Enroll(devices[2], nullptr);
  ASSERT_FALSE(after.serial().empty());
  EXPECT_NE(after.chain(0), old_ca_der);
  const keyline::v1::IssuedCertificate renewed = Enroll(devices[1], &renewing);
  ASSERT_FALSE(renewed.serial().empty());
  EXPECT_EQ(renewed.chain(0), after.chain(0));
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM certificates c JOIN certificate_authorities a "
                          "ON a.id = c.issuer_id WHERE c.profile = 'device' AND "
                          "a.name = 'deployment/default' AND c.issued_at > (SELECT occurred_at "
                          "FROM audit_log WHERE action = 'ca.rotated')"),
            0);

  // The root's responder knows the rotated-in CA's certificate (it is not in the certificates
  // table): `good`, for relying parties that check the whole chain by OCSP.
  {
    auto root_pem = ReadFile(Environment().root_file());
    ASSERT_TRUE(root_pem.ok()) << root_pem.status();
    auto root = ca::ParseCertificateDer(ca::PemToDerChain(*root_pem)->front());
    auto new_ca = ca::ParseCertificateDer(after.chain(0));
    ASSERT_TRUE(root.ok() && new_ca.ok());
    auto answer = testing::OcspAnswerOf(Environment().status_url() + "/ocsp", root->get(),
                                        ca::SerialOf(new_ca->get()));
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(*answer, cli::OcspCertificateStatus::kGood);
  }

  // Both generations verify with an independent validator.
  for (const auto& [issued, name] :
       {std::pair{&before, "before"}, std::pair{&after, "after"}, std::pair{&renewed, "renewed"}}) {
    const ProcessResult verified = OpensslVerify(*issued, name);
    EXPECT_EQ(verified.exit_code, 0) << name << ": " << verified.out << verified.err;
    EXPECT_THAT(verified.out, HasSubstr(": OK")) << name;
  }

  // Revoking the device enrolled before: the old CA's CRL and OCSP say so; the
  // new CA's say good.
  EXPECT_EQ(Status(before, "before").exit_code, 0);
  const auto revoked = Environment().Keylinectl(
      {"revoke", "--serial", before.serial(), "--reason", "keyCompromise"});
  ASSERT_TRUE(revoked.ok() && revoked->exit_code == 0) << revoked->err;
  const std::string crl_serial = absl::AsciiStrToUpper(before.serial());
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  std::string old_crl;
  while (absl::Now() < deadline) {
    old_crl = CrlText("deployment-default.crl");
    if (absl::StrContains(old_crl, crl_serial) && Status(before, "before").exit_code == 1) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_THAT(old_crl, HasSubstr(crl_serial));
  EXPECT_THAT(old_crl, ContainsRegex("Issuer: .*Deployment CA default\n"));
  EXPECT_EQ(Status(before, "before").exit_code, 1);
  EXPECT_EQ(Status(after, "after").exit_code, 0);
  EXPECT_EQ(Status(renewed, "renewed").exit_code, 0);
  const std::string new_crl = CrlText("deployment-default:2.crl");
  EXPECT_THAT(new_crl, ContainsRegex("Issuer: .*Deployment CA default G2"));
  EXPECT_THAT(new_crl, Not(HasSubstr(crl_serial)));

  // After a restart the retired CA still answers and the new one still issues.
  Environment().StopServer();
  ASSERT_TRUE(Environment().StartServer().ok());
  EXPECT_EQ(Status(before, "before").exit_code, 1);
  EXPECT_THAT(CrlText("deployment-default.crl"), HasSubstr(crl_serial));
  // A process's first full CRL has no earlier one of that process to be a delta's base: its delta
  // is numbered after it, so it is issued in a later second (RFC 5280 5.2.3: CRLs issued at the
  // same time share a number).
  for (const std::string ca : {"deployment-default", "deployment-default:2"}) {
    ASSERT_FALSE(CrlText(ca + ".crl").empty()) << ca;
    ASSERT_FALSE(CrlText(ca + "-delta.crl").empty()) << ca;
    const auto full = testing::ReadCrlFacts(Environment().directory() + "/" + ca + ".crl");
    const auto delta = testing::ReadCrlFacts(Environment().directory() + "/" + ca + "-delta.crl");
    ASSERT_TRUE(full.ok() && delta.ok()) << ca;
    EXPECT_EQ(delta->base_crl_number, full->crl_number) << ca;
    EXPECT_GT(delta->crl_number, full->crl_number) << ca;
    EXPECT_NE(delta->last_update, full->last_update) << ca;
  }
  std::vector<SimulatedDevice> later = ManufactureAndClaim("rotation-later", 1);
  ASSERT_EQ(later.size(), 1u);
  const keyline::v1::IssuedCertificate last = Enroll(later[0], nullptr);
  ASSERT_FALSE(last.serial().empty());
  EXPECT_EQ(last.chain(0), after.chain(0));
  EXPECT_EQ(Status(last, "last").exit_code, 0);

  // A second rotation retires the second CA; the first stays retired.
  const nlohmann::json again = Rotate("default");
  EXPECT_EQ(again["active"]["name"], "deployment/default:3");
  EXPECT_EQ(again["retired"]["name"], "deployment/default:2");
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM certificate_authorities WHERE "
                          "deployment = 'default' AND status = 'active'"),
            1);
}

TEST_F(CaRotationTest, BadRotationsAreRefusedAndChangeNothing) {
  const int64_t cas = fleet_->Count("SELECT count(*) FROM certificate_authorities");
  const int64_t events = fleet_->Count("SELECT count(*) FROM audit_log");

  auto unknown = Environment().Keylinectl({"ca", "rotate", "--deployment", "no-such-deployment"});
  ASSERT_TRUE(unknown.ok());
  EXPECT_NE(unknown->exit_code, 0);
  EXPECT_THAT(unknown->err, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(unknown->err, HasSubstr("no-such-deployment"));

  auto empty = Environment().Keylinectl({"ca", "rotate", "--deployment", ""});
  ASSERT_TRUE(empty.ok());
  EXPECT_NE(empty->exit_code, 0);
  EXPECT_THAT(empty->err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(empty->err, HasSubstr("deployment"));

  auto not_admin =
      Environment().Keylinectl({"ca", "rotate", "--deployment", "default"}, fleet_->factory());
  ASSERT_TRUE(not_admin.ok());
  EXPECT_NE(not_admin->exit_code, 0);
  EXPECT_THAT(not_admin->err, HasSubstr("PERMISSION_DENIED"));

  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM certificate_authorities"), cas);
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM audit_log"), events);
}

// A rotated-in CA whose pickup fails part way (here: its first CRL number cannot be taken) is
// picked up by a later sync, with the CA object the failed attempt loaded. Before, the failed
// attempt freed that object while the CRL publisher and the status service still pointed at it,
// and the retry published through the freed one.
TEST_F(CaRotationTest, APickupThatFailedPartWayIsCompletedByALaterSync) {
  const auto as_owner = [](const std::string& sql) {
    pqxx::connection owner(Environment().database().owner_url);
    pqxx::work work(owner);
    work.exec0(sql);
    work.commit();
  };
  const auto active_ca = [] {
    pqxx::connection owner(Environment().database().owner_url);
    pqxx::read_transaction read(owner);
    const pqxx::row row = read.exec1(
        "SELECT id, name FROM certificate_authorities WHERE deployment = 'default' AND "
        "status = 'active'");
    return std::pair{row[0].as<int>(), row[1].as<std::string>()};
  };
  const auto [old_id, old_name] = active_ca();

  as_owner("REVOKE INSERT ON crl_numbers FROM keyline_service");
  auto rotated = Environment().Keylinectl({"ca", "rotate", "--deployment", "default"});
  as_owner("GRANT INSERT ON crl_numbers TO keyline_service");
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  // The rotation committed; taking the new CA into service did not.
  EXPECT_NE(rotated->exit_code, 0) << rotated->out;
  EXPECT_THAT(rotated->err, HasSubstr("crl_numbers"));
  const auto [new_id, new_name] = active_ca();
  ASSERT_NE(new_id, old_id);
  // Said so, so that the operator does not rotate again.
  EXPECT_THAT(rotated->err, HasSubstr("the rotation is committed (" + new_name + " is active, " +
                                      old_name + " retired): do not rotate again"));

  // The periodic sync (every second here) completes the pickup: the new CA's CRL is served and
  // signed by it, and devices enroll under it.
  std::string file = new_name;
  std::replace(file.begin(), file.end(), '/', '-');
  file += ".crl";
  const std::string generation = new_name.substr(new_name.rfind(':') + 1);
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  std::string crl = CrlText(file);
  while (crl.empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    crl = CrlText(file);
  }
  EXPECT_THAT(crl, ContainsRegex("Issuer: .*Deployment CA default G" + generation + "\n"));
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("pickup-retried", 1);
  ASSERT_EQ(devices.size(), 1u);
  // The CRLs come first: until the pickup ends the retired CA is still current here, and a
  // request refused for it is to be retried (UNAVAILABLE).
  EnrollmentOptions options;
  options.software_deployment_key = true;
  absl::StatusOr<keyline::v1::EnrollmentResponse> enrolled;
  do {
    enrolled = testing::Enroll(fleet_->Anonymous(), devices[0], fleet_->secure_element(), options);
  } while (absl::IsUnavailable(enrolled.status()) && absl::Now() < deadline &&
           (absl::SleepFor(absl::Milliseconds(100)), true));
  ASSERT_TRUE(enrolled.ok()) << enrolled.status();
  const keyline::v1::IssuedCertificate issued = enrolled->certificate();
  ASSERT_GT(issued.chain_size(), 0);
  EXPECT_EQ(fleet_->Count(absl::StrCat("SELECT count(*) FROM certificate_authorities WHERE id = ",
                                       new_id, " AND certificate = decode('",
                                       absl::BytesToHexString(issued.chain(0)), "', 'hex')")),
            1);
  EXPECT_EQ(OpensslVerify(issued, "pickup-retried").exit_code, 0);
}

// A replica that did not rotate learns of the new CA at its next resync, a minute here. The first
// request it refuses for the retired CA makes it look at once, so that the device's retry is served
// by the new CA, not refused again until the resync.
TEST(CaRotationReplicaTest, TheFirstRefusalForARetiredCaMakesAReplicaLookForTheNewOne) {
  testing::KeylineEnvironment::Options options;
  options.status_yaml = "  resync_interval_seconds: 60\n";
  auto fleet = Fleet::Create(options, "rotation-replica-se");
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  auto devices = (*fleet)->ManufactureAndClaim("replica-pickup", 2);
  ASSERT_TRUE(devices.ok() && devices->size() == 2u) << devices.status();
  auto replica = (*fleet)->environment().StartReplica("replica-b");
  ASSERT_TRUE(replica.ok()) << replica.status();
  const auto replica_b = (*fleet)->environment().AnonymousChannelTo(**replica);
  EnrollmentOptions enrollment;
  enrollment.software_deployment_key = true;
  auto before = testing::Enroll(replica_b, (*devices)[0], (*fleet)->secure_element(), enrollment);
  ASSERT_TRUE(before.ok()) << before.status();

  // Rotated through replica A.
  auto rotated = (*fleet)->environment().Keylinectl({"ca", "rotate", "--deployment", "default"});
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  ASSERT_EQ(rotated->exit_code, 0) << rotated->err;

  // Replica B still holds the retired CA current: refused, to be retried; the retry gets the new
  // CA within seconds, not at the resync a minute away.
  int refused = 0;
  absl::StatusOr<keyline::v1::EnrollmentResponse> after;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (true) {
    after = testing::Enroll(replica_b, (*devices)[1], (*fleet)->secure_element(), enrollment);
    if (!absl::IsUnavailable(after.status()) || absl::Now() > deadline) break;
    EXPECT_THAT(std::string(after.status().message()), HasSubstr("retired by a rotation"));
    ++refused;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_GE(refused, 1) << "replica B had the new CA before any refusal";
  ASSERT_TRUE(after.ok()) << after.status() << " after " << refused << " refusals";
  EXPECT_NE(after->certificate().chain(0), before->certificate().chain(0));
  EXPECT_EQ((*fleet)->Count(absl::StrCat(
                "SELECT count(*) FROM certificate_authorities WHERE status = 'active' AND "
                "deployment = 'default' AND certificate = decode('",
                absl::BytesToHexString(after->certificate().chain(0)), "', 'hex')")),
            1);
}

}  // namespace
}  // namespace keyline
