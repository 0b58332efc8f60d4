// Zero-touch enrollment end to end, against keyline-server with real PostgreSQL and SoftHSM2
// (a second token stands for the devices' secure elements): a factory station registers 100
// devices, an admin claims them, each enrolls; certificates are checked by openssl; retries of
// one request_id yield one certificate; renewal over mTLS; decommissioning.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "ca/csr_builder.h"
#include "ca/serial_number.h"
#include "ca/software_key.h"
#include "ca/testing/software_signing_key.h"
#include "common/hex.h"
#include "tests/support/fleet.h"
#include "tests/support/ocsp_answer.h"
#include "tests/support/postgres_cluster.h"

namespace keyline {
namespace {

using testing::EnrollmentOptions;
using testing::Fleet;
using ::testing::HasSubstr;
using testing::SimulatedDevice;

class EnrollmentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto fleet = Fleet::Create({}, "enrollment-se");
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = fleet->release();
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }

  static std::vector<SimulatedDevice> ManufactureAndClaim(const std::string& prefix, int count) {
    auto devices = fleet_->ManufactureAndClaim(prefix, count);
    EXPECT_TRUE(devices.ok()) << devices.status();
    return devices.ok() ? *std::move(devices) : std::vector<SimulatedDevice>{};
  }

  static std::string WriteChainPem(const keyline::v1::IssuedCertificate& issued,
                                   const std::string& name) {
    const std::string path = fleet_->environment().directory() + "/" + name + ".pem";
    std::ofstream(path) << testing::PresentedChainPem(issued);
    return path;
  }

  static Fleet* fleet_;
};

Fleet* EnrollmentTest::fleet_ = nullptr;

TEST_F(EnrollmentTest, HundredDevicesAreManufacturedClaimedAndEnrolled) {
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("sensor", 100);
  ASSERT_EQ(devices.size(), 100u);
  const auto channel = fleet_->Anonymous();
  std::set<std::string> serials;
  for (auto& device : devices) {
    auto enrolled = testing::Enroll(channel, device, fleet_->secure_element());
    ASSERT_TRUE(enrolled.ok()) << device.serial << ": " << enrolled.status();
    const auto& issued = enrolled->certificate();
    serials.insert(issued.serial());

    auto certificate = ca::ParseCertificateDer(issued.certificate());
    ASSERT_TRUE(certificate.ok());
    GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(certificate->get(), NID_subject_alt_name, nullptr, nullptr)));
    ASSERT_TRUE(names);
    ASSERT_EQ(sk_GENERAL_NAME_num(names.get()), 1);
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), 0);
    ASSERT_EQ(name->type, GEN_URI);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.ia5)),
                          static_cast<size_t>(ASN1_STRING_length(name->d.ia5))),
              "urn:keyline:default:device:" + device.serial);
    EXPECT_EQ(X509_get_extended_key_usage(certificate->get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
    // The configured 30 days, plus the five minutes of backdating.
    EXPECT_EQ(ca::NotAfterOf(certificate->get()) - ca::NotBeforeOf(certificate->get()),
              absl::Hours(24 * 30) + absl::Minutes(5));
    EXPECT_GT(enrolled->renew_after().seconds(), issued.not_before().seconds());
    EXPECT_LT(enrolled->renew_after().seconds(), issued.not_after().seconds());
    EXPECT_EQ(enrolled->ocsp_url(), fleet_->environment().status_url() + "/ocsp");
    EXPECT_EQ(enrolled->crl_url(), fleet_->environment().status_url() + "/crl/deployment-default.crl");

    // An independent validator agrees, for a TLS client.
    const std::string chain = WriteChainPem(issued, device.serial);
    auto verify = testing::RunProcess({"openssl", "verify", "-purpose", "sslclient", "-x509_strict",
                                       "-CAfile", fleet_->environment().root_file(), "-untrusted",
                                       chain, chain});
    ASSERT_TRUE(verify.ok());
    EXPECT_EQ(verify->exit_code, 0) << device.serial << ": " << verify->out << verify->err;
  }
  EXPECT_EQ(serials.size(), 100u);
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM devices WHERE serial LIKE 'sensor-%' AND state = "
                          "'enrolled'"),
            100);
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM audit_log WHERE action = 'device.enrolled' AND "
                          "details->>'device_serial' LIKE 'sensor-%'"),
            100);
  auto described = fleet_->Describe("sensor-0042");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->state(), "enrolled");
  EXPECT_EQ(described->deployment(), "default");
}

// A device that just enrolled is typically checked at once: it connects to a broker that asks
// OCSP about its new certificate. The server that issued it must already say `good`, not
// `unknown` (which relying parties cache until its nextUpdate) while its status feed catches up.
TEST_F(EnrollmentTest, TheIssuingServerAnswersGoodAtOcspAsSoonAsEnrollmentReturns) {
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("fresh-status", 50);
  ASSERT_EQ(devices.size(), 50u);
  const auto channel = fleet_->Anonymous();
  const std::string ocsp_url = fleet_->environment().status_url() + "/ocsp";
  for (auto& device : devices) {
    auto enrolled = testing::Enroll(channel, device, fleet_->secure_element());
    ASSERT_TRUE(enrolled.ok()) << device.serial << ": " << enrolled.status();
    const auto& issued = enrolled->certificate();
    ASSERT_GE(issued.chain_size(), 1);
    auto certificate = ca::ParseCertificateDer(issued.certificate());
    auto issuer = ca::ParseCertificateDer(issued.chain(0));
    ASSERT_TRUE(certificate.ok() && issuer.ok());
    auto answer = testing::OcspAnswerOf(ocsp_url, issuer->get(), ca::SerialOf(certificate->get()));
    ASSERT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(cli::OcspCertificateStatusName(*answer), "good") << device.serial;
  }
}

TEST_F(EnrollmentTest, AGatewayRelaysEnrollmentAndTheAuditEventNamesIt) {
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("relayed", 1);
  ASSERT_EQ(devices.size(), 1u);
  auto enrolled = testing::Enroll(fleet_->Gateway(), devices[0], fleet_->secure_element());
  ASSERT_TRUE(enrolled.ok()) << enrolled.status();
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM audit_log WHERE action = 'device.enrolled' AND "
                          "details->>'device_serial' = 'relayed-0000' AND details->>'gateway' = "
                          "'urn:keyline:role:gateway:ward-gw-1'"),
            1);
}

TEST_F(EnrollmentTest, AChainOtherThanTheRegisteredOneIsValidatedInFull) {
  // Registered with its leaf alone, the device now presents the manufacturer CA after it: no
  // longer the registered bytes, so BeginEnrollment parses and validates the chain in full, to
  // the same anchor, and the enrollment goes through.
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("longer-chain", 1);
  ASSERT_EQ(devices.size(), 1u);
  SimulatedDevice& device = devices[0];
  ASSERT_FALSE(device.issuer_chain.empty());
  device.attestation_chain.push_back(device.issuer_chain.front());
  auto enrolled = testing::Enroll(fleet_->Anonymous(), device, fleet_->secure_element());
  ASSERT_TRUE(enrolled.ok()) << enrolled.status();
}

TEST_F(EnrollmentTest, TenConcurrentRetriesOfOneRequestIssueOneCertificate) {
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("retry", 1);
  ASSERT_EQ(devices.size(), 1u);
  SimulatedDevice& device = devices[0];
  auto challenge = testing::BeginEnrollment(fleet_->Anonymous(), device);
  ASSERT_TRUE(challenge.ok()) << challenge.status();

  // Ten attempts with one request_id and one challenge, each with its own key and channel, as a
  // device whose first answers got lost would send them.
  // The attestation key is shared between the copies: SigningKey is thread-safe.
  std::vector<SimulatedDevice> copies(10);
  for (auto& copy : copies) {
    copy.serial = device.serial;
    copy.attestation_key = device.attestation_key;
  }
  std::vector<grpc::Status> statuses(10);
  std::vector<keyline::v1::EnrollmentResponse> responses(10);
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      EnrollmentOptions options;
      options.request_id = "retry-request-1";
      // SoftHSM2 fails now and then (CKR_GENERAL_ERROR) when ten threads create token objects
      // at once; the keys do not matter here.
      options.software_deployment_key = true;
      statuses[static_cast<size_t>(i)] = testing::Complete(
          fleet_->Anonymous(), copies[static_cast<size_t>(i)], fleet_->secure_element(),
          *challenge, options, &responses[static_cast<size_t>(i)]);
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> serials;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(statuses[static_cast<size_t>(i)].ok())
        << i << ": " << statuses[static_cast<size_t>(i)].error_message();
    serials.insert(responses[static_cast<size_t>(i)].certificate().serial());
  }
  EXPECT_EQ(serials.size(), 1u);
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM certificates WHERE device_serial = 'retry-0000' "
                          "AND profile = 'device'"),
            1);
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM enrollments WHERE request_id = 'retry-request-1'"),
            1);
}

// Challenges live in an unlogged table, which a database crash empties. A device whose answer was
// lost retries its request (same request_id, a CSR for the same key) and still gets its
// certificate; with another key the challenge is simply unknown.
TEST_F(EnrollmentTest, ARetryAfterTheChallengesWereLostGetsTheSameCertificate) {
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("lost-challenge", 1);
  ASSERT_EQ(devices.size(), 1u);
  SimulatedDevice& device = devices[0];
  auto challenge = testing::BeginEnrollment(fleet_->Anonymous(), device);
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  EnrollmentOptions options;
  options.request_id = "lost-challenge-request";
  options.software_deployment_key = true;
  keyline::v1::EnrollmentResponse first;
  const grpc::Status completed = testing::Complete(
      fleet_->Anonymous(), device, fleet_->secure_element(), *challenge, options, &first);
  ASSERT_TRUE(completed.ok()) << completed.error_message();
  {
    pqxx::connection owner(fleet_->environment().database().owner_url);
    pqxx::work truncate(owner);
    truncate.exec0("TRUNCATE challenges");  // what crash recovery does to an unlogged table
    truncate.commit();
  }

  const auto retry = [&](const hsm::SigningKey& key, keyline::v1::EnrollmentResponse* response) {
    keyline::v1::CompleteEnrollmentRequest request;
    request.set_challenge_id(challenge->challenge_id());
    request.set_csr(*ca::CreateCsrWithKey(key, device.serial));
    request.set_proof("the nonce is gone: nothing to sign over");
    request.set_request_id(options.request_id);
    grpc::ClientContext context;
    return keyline::v1::EnrollmentService::NewStub(fleet_->Anonymous())
        ->CompleteEnrollment(&context, request, response);
  };
  keyline::v1::EnrollmentResponse again;
  const grpc::Status retried = retry(*device.deployment_key, &again);
  ASSERT_TRUE(retried.ok()) << retried.error_message();
  EXPECT_EQ(again.certificate().serial(), first.certificate().serial());
  EXPECT_EQ(again.certificate().certificate(), first.certificate().certificate());

  const auto other_key = ca::testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  keyline::v1::EnrollmentResponse refused;
  const grpc::Status other = retry(*other_key, &refused);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND) << other.error_message();
  EXPECT_EQ(other.error_message(), "challenge_id: unknown challenge");
  EXPECT_FALSE(refused.has_certificate());
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM certificates WHERE profile = 'device' AND "
                          "device_serial = '" +
                          device.serial + "'"),
            1);
}

TEST_F(EnrollmentTest, RenewalOverMutualTlsAndNoRenewalAfterDecommissioning) {
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("renew", 1);
  ASSERT_EQ(devices.size(), 1u);
  SimulatedDevice& device = devices[0];
  EnrollmentOptions software_key;
  software_key.software_deployment_key = true;
  auto enrolled = testing::Enroll(fleet_->Anonymous(), device, fleet_->secure_element(),
                                  software_key);
  ASSERT_TRUE(enrolled.ok()) << enrolled.status();

  const auto device_channel = [&](const keyline::v1::IssuedCertificate& issued) {
    return fleet_->Device(device, issued);
  };
  EnrollmentOptions renew = software_key;
  renew.renew = true;
  auto renewed = testing::Enroll(device_channel(enrolled->certificate()), device,
                                 fleet_->secure_element(), renew);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_NE(renewed->certificate().serial(), enrolled->certificate().serial());
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM audit_log WHERE action = 'device.renewed' AND "
                          "details->>'device_serial' = 'renew-0000'"),
            1);

  // Decommissioned: its certificates are revoked and it can neither renew nor enroll again.
  // keylinectl's dry run and the real run count what is revoked, the second run nothing.
  const int64_t good = fleet_->Count(
      "SELECT count(*) FROM certificates WHERE device_serial = 'renew-0000' AND status = 'good'");
  const int64_t all =
      fleet_->Count("SELECT count(*) FROM certificates WHERE device_serial = 'renew-0000'");
  const auto revoke = fleet_->environment().Keylinectl(
      {"revoke", "--serial", renewed->certificate().serial(), "--reason", "superseded"});
  ASSERT_TRUE(revoke.ok()) << revoke.status();
  ASSERT_EQ(revoke->exit_code, 0) << revoke->err;
  // One certificate already revoked, which decommissioning does not count.
  const auto keylinectl = [this](const std::vector<std::string>& arguments) {
    std::vector<std::string> argv = {"device",     "decommission", "--serial",
                                     "renew-0000", "--reason",     "returned to vendor"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    auto result = fleet_->environment().Keylinectl(argv);
    EXPECT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result.ok() ? result->exit_code : -1, 0) << (result.ok() ? result->err : "");
    return result.ok() ? result->out : std::string();
  };
  EXPECT_THAT(keylinectl({"--dry-run"}),
              HasSubstr(absl::StrCat("would be decommissioned (", good - 1, " certificates")));
  EXPECT_THAT(keylinectl({}), HasSubstr(absl::StrCat(good - 1, " certificate(s) revoked")));
  EXPECT_THAT(keylinectl({}), HasSubstr("renew-0000 was already decommissioned; nothing changed"));
  auto after = fleet_->Decommission(device.serial, "returned to vendor");
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->state(), "decommissioned");
  EXPECT_FALSE(after->decommissioned_now());
  EXPECT_EQ(after->revoked_certificate_serials_size(), 0);
  EXPECT_EQ(after->good_certificate_serials_size(), 0);
  EXPECT_EQ(after->certificate_serials_size(), all);
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM certificates WHERE device_serial = 'renew-0000' "
                          "AND profile = 'device' AND status = 'good'"),
            0);
  auto refused = testing::Enroll(device_channel(renewed->certificate()), device,
                                 fleet_->secure_element(), renew);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  auto again = testing::Enroll(fleet_->Anonymous(), device, fleet_->secure_element());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition) << again.status();
  EXPECT_NE(std::string(again.status().message()).find("decommissioned"), std::string::npos);
}

// The certificate a device renews with, revoked while the renewal waits to commit (the revoking
// transaction holds the certificate's row and the audit head, as RevocationRepository's does), or
// expired on a connection opened before: either way no renewal.
TEST_F(EnrollmentTest, NoRenewalWithACertificateRevokedMeanwhileOrExpiredOnAnOpenConnection) {
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("renew-late", 2);
  ASSERT_EQ(devices.size(), 2u);
  EnrollmentOptions renew;
  renew.software_deployment_key = true;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::string> certificates;
  for (SimulatedDevice& device : devices) {
    auto enrolled = testing::Enroll(fleet_->Anonymous(), device, fleet_->secure_element(), renew);
    ASSERT_TRUE(enrolled.ok()) << enrolled.status();
    channels.push_back(fleet_->Device(device, enrolled->certificate()));
    certificates.push_back(enrolled->certificate().certificate());
  }
  renew.renew = true;
  const auto device_certificates = [](const std::string& serial) {
    return fleet_->Count(
        "SELECT count(*) FROM certificates WHERE profile = 'device' AND "
        "device_serial = '" +
        serial + "'");
  };

  pqxx::connection revoker(fleet_->environment().database().owner_url);
  pqxx::work revocation(revoker);
  revocation.exec_params0(
      "UPDATE certificates SET status = 'revoked', revoked_at = now(), revocation_reason = 1 "
      "WHERE der = $1",
      pqxx::binarystring(certificates[0]));
  revocation.exec("SELECT 1 FROM audit_head FOR UPDATE");
  absl::StatusOr<keyline::v1::EnrollmentResponse> renewed;
  std::thread renewal(
      [&] { renewed = testing::Enroll(channels[0], devices[0], fleet_->secure_element(), renew); });
  EXPECT_TRUE(fleet_->WaitForALockWait()) << "the renewal never waited for the revocation";
  revocation.commit();
  renewal.join();
  EXPECT_EQ(renewed.status().code(), absl::StatusCode::kPermissionDenied) << renewed.status();
  EXPECT_NE(std::string(renewed.status().message()).find("client certificate: revoked"),
            std::string::npos)
      << renewed.status();
  EXPECT_EQ(device_certificates(devices[0].serial), 1);

  // The second device's certificate expires, as the database records it: a TLS connection opened
  // before its notAfter stays open past it, and then only the server's own check stops a renewal.
  pqxx::connection owner(fleet_->environment().database().owner_url);
  pqxx::work expire(owner);
  expire.exec_params0(
      "UPDATE certificates SET not_after = now() - interval '1 second' "
      "WHERE der = $1",
      pqxx::binarystring(certificates[1]));
  expire.commit();
  auto expired = testing::Enroll(channels[1], devices[1], fleet_->secure_element(), renew);
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kPermissionDenied) << expired.status();
  EXPECT_NE(std::string(expired.status().message()).find("client certificate has expired"),
            std::string::npos)
      << expired.status();
  EXPECT_EQ(device_certificates(devices[1].serial), 1);
}

// The database unreachable when Renew looks the presented certificate up: the device hears
// UNAVAILABLE (retry later), not that its certificate is revoked, and nothing is issued. Once the
// database is back, the same device renews.
TEST_F(EnrollmentTest, ARenewalWhileTheDatabaseIsUnreachableIsUnavailableNotRevoked) {
  std::vector<SimulatedDevice> devices = ManufactureAndClaim("renew-outage", 1);
  ASSERT_EQ(devices.size(), 1u);
  SimulatedDevice& device = devices[0];
  EnrollmentOptions options;
  options.software_deployment_key = true;
  auto enrolled = testing::Enroll(fleet_->Anonymous(), device, fleet_->secure_element(), options);
  ASSERT_TRUE(enrolled.ok()) << enrolled.status();
  const auto channel = fleet_->Device(device, enrolled->certificate());
  options.renew = true;
  auto challenge = testing::BeginEnrollment(channel, device);
  ASSERT_TRUE(challenge.ok()) << challenge.status();

  // An outage as the service sees it: its sessions end and no new one is let in (superusers are,
  // so the test can undo it).
  auto cluster = testing::SharedPostgresCluster();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const std::string database = fleet_->environment().database().name;
  ASSERT_TRUE((*cluster)
                  ->ExecuteAsSuperuser(database, "ALTER DATABASE \"" + database +
                                                     "\" CONNECTION LIMIT 0; "
                                                     "SELECT pg_terminate_backend(pid) FROM "
                                                     "pg_stat_activity WHERE datname = "
                                                     "current_database() AND pid <> "
                                                     "pg_backend_pid()")
                  .ok());
  keyline::v1::EnrollmentResponse response;
  const grpc::Status during =
      testing::Complete(channel, device, fleet_->secure_element(), *challenge, options, &response);
  ASSERT_TRUE(
      (*cluster)
          ->ExecuteAsSuperuser(database, "ALTER DATABASE \"" + database + "\" CONNECTION LIMIT -1")
          .ok());
  EXPECT_EQ(during.error_code(), grpc::StatusCode::UNAVAILABLE) << during.error_message();
  EXPECT_EQ(during.error_message().find("revoked"), std::string::npos) << during.error_message();
  EXPECT_FALSE(response.has_certificate());

  // Back: the device renews (after the pool's connections are made again).
  absl::StatusOr<keyline::v1::EnrollmentResponse> renewed;
  for (int attempt = 0; attempt < 20; ++attempt) {
    renewed = testing::Enroll(channel, device, fleet_->secure_element(), options);
    if (renewed.ok() || !absl::IsUnavailable(renewed.status())) break;
    absl::SleepFor(absl::Milliseconds(250));
  }
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM certificates WHERE profile = 'device' AND "
                          "device_serial = '" +
                          device.serial + "'"),
            2);
}

TEST_F(EnrollmentTest, FactoryBatchesAreIdempotentPerSerial) {
  auto first = fleet_->Manufacture("batch", 3);
  ASSERT_TRUE(first.ok()) << first.status();
  // The same serials with the same keys: the same certificates, nothing new.
  keyline::v1::IssueAttestationCertificatesRequest request;
  request.set_manufacturer("keyline");
  for (auto& device : *first) {
    auto* entry = request.add_devices();
    entry->set_device_serial(device.serial);
    entry->set_hardware_model(device.hardware_model);
    entry->set_csr(*testing::AttestationCsr(device, fleet_->secure_element()));
  }
  keyline::v1::IssueAttestationCertificatesResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(keyline::v1::FactoryService::NewStub(fleet_->Factory())
                  ->IssueAttestationCertificates(&context, request, &response)
                  .ok());
  EXPECT_EQ(response.newly_registered(), 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(response.certificates(i).certificate(), (*first)[static_cast<size_t>(i)].attestation_chain[0]);
  }
}

}  // namespace
}  // namespace keyline
