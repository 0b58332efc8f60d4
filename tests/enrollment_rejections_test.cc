// Every way enrollment must refuse, each with its precise status code and no state change:
// unknown, unclaimed, untrusted or revoked manufacturer, expired attestation certificate,
// replayed / expired / foreign challenges, proofs over the wrong nonce or key, a CSR for another
// key, an attestation certificate used for TLS, bad or expired vouchers.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/certificate_builder.h"
#include "ca/certificate_der.h"
#include "ca/csr_builder.h"
#include "ca/issuing_ca.h"
#include "ca/profiles.h"
#include "ca/public_key_info.h"
#include "ca/serial_number.h"
#include "ca/software_key.h"
#include "ca/testing/software_signing_key.h"
#include "provisioning/ownership_voucher.h"
#include "store/sha256.h"
#include "tests/support/fleet.h"

namespace keyline {
namespace {

using ca::testing::SoftwareSigningKey;
using testing::EnrollmentOptions;
using testing::Fleet;
using testing::SimulatedDevice;

// What a rejection must leave untouched.
struct Snapshot {
  int64_t certificates, audit_rows, enrollments, used_challenges;
  bool operator==(const Snapshot&) const = default;
};

// A vendor CA outside Keyline, with its key in memory.
struct Vendor {
  std::unique_ptr<ca::IssuingCa> ca;
  std::string root_der;
};

class EnrollmentRejectionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    KeylineEnvironment_options_.extra_yaml = "enrollment: {challenge_lifetime_seconds: 5}\n";
    auto fleet = Fleet::Create(KeylineEnvironment_options_, "rejections-se");
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = fleet->release();
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }

  static Snapshot Take() {
    return {fleet_->Count("SELECT count(*) FROM certificates"),
            fleet_->Count("SELECT count(*) FROM audit_log"),
            fleet_->Count("SELECT count(*) FROM enrollments"),
            fleet_->Count("SELECT count(*) FROM challenges WHERE used_at IS NOT NULL")};
  }

  static SimulatedDevice ClaimedDevice(const std::string& prefix) {
    auto devices = fleet_->Manufacture(prefix, 1);
    EXPECT_TRUE(devices.ok()) << devices.status();
    EXPECT_TRUE(fleet_->Claim(*devices).ok());
    return std::move((*devices)[0]);
  }

  // Completes with `options` against a fresh challenge and expects `code` and `text`, and that
  // nothing changed.
  static void ExpectCompleteRefused(SimulatedDevice& device, const EnrollmentOptions& options,
                                    grpc::StatusCode code, const std::string& text) {
    auto challenge = testing::BeginEnrollment(fleet_->Anonymous(), device);
    ASSERT_TRUE(challenge.ok()) << challenge.status();
    const Snapshot before = Take();
    keyline::v1::EnrollmentResponse response;
    const grpc::Status status = testing::Complete(fleet_->Anonymous(), device,
                                                  fleet_->secure_element(), *challenge, options,
                                                  &response);
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_NE(status.error_message().find(text), std::string::npos) << status.error_message();
    EXPECT_FALSE(response.has_certificate());
    EXPECT_EQ(Take(), before);
  }

  static void ExpectBeginRefused(const SimulatedDevice& device, absl::StatusCode code,
                                 const std::string& text) {
    const Snapshot before = Take();
    const int64_t challenges = fleet_->Count("SELECT count(*) FROM challenges");
    auto challenge = testing::BeginEnrollment(fleet_->Anonymous(), device);
    EXPECT_EQ(challenge.status().code(), code) << challenge.status();
    EXPECT_NE(std::string(challenge.status().message()).find(text), std::string::npos)
        << challenge.status();
    EXPECT_EQ(Take(), before);
    EXPECT_EQ(fleet_->Count("SELECT count(*) FROM challenges"), challenges);
  }

  // A vendor CA (P-256, in memory) registered with Keyline as manufacturer `name`.
  static Vendor AddVendor(const std::string& name) {
    Vendor vendor;
    auto key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
    auto info = ca::PublicKeyInfo::FromKey(key->public_key());
    ca::ProfileSettings settings;
    settings.organization = "Vendor " + name;
    const ca::IssueContext context{settings, &*info, *ca::GenerateSerial(), absl::Now(), ""};
    vendor.root_der = ca::BuildCertificate(ca::RootTemplate(context), nullptr, *key)->der;
    vendor.ca = *ca::IssuingCa::Create(name, 0, {vendor.root_der}, std::move(key));
    keyline::v1::AddManufacturerRequest request;
    request.set_name(name);
    request.set_trust_anchor(vendor.root_der);
    keyline::v1::Manufacturer response;
    grpc::ClientContext client_context;
    const auto status = keyline::v1::AdminService::NewStub(fleet_->Admin())
                            ->AddManufacturer(&client_context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return vendor;
  }

  // A device of `vendor` with an attestation certificate valid for `validity`, registered
  // through RegisterDevices.
  static SimulatedDevice VendorDevice(const Vendor& vendor, const std::string& serial,
                                      absl::Duration validity) {
    SimulatedDevice device;
    device.serial = serial;
    device.attestation_key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
    auto info = ca::PublicKeyInfo::FromKey(device.attestation_key->public_key());
    ca::ProfileSettings settings;
    settings.backdate = absl::ZeroDuration();
    const ca::IssueContext context{settings, &*info, *ca::GenerateSerial(), absl::Now(),
                                   vendor.ca->name()};
    ca::CertificateTemplate leaf = ca::AttestationTemplate(context, serial, "Vendor Sensor");
    leaf.not_after = absl::Now() + validity;
    device.attestation_chain.push_back(vendor.ca->Issue(leaf)->der);

    keyline::v1::RegisterDevicesRequest request;
    request.set_manufacturer(vendor.ca->name());
    auto* entry = request.add_devices();
    entry->set_device_serial(serial);
    entry->set_hardware_model("Vendor Sensor");
    entry->add_attestation_chain(device.attestation_chain[0]);
    keyline::v1::RegisterDevicesResponse response;
    grpc::ClientContext client_context;
    const auto status = keyline::v1::FactoryService::NewStub(fleet_->Factory())
                            ->RegisterDevices(&client_context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return device;
  }

  // The vendor's voucher handing `device` to deployment "default".
  static keyline::v1::SignedVoucher Voucher(const Vendor& vendor, const SimulatedDevice& device,
                                            absl::Time expires_at) {
    auto info = ca::PublicKeyInfo::FromKey(device.attestation_key->public_key());
    provisioning::VoucherContent content{device.serial, store::Sha256(*info->ToDer()), "default",
                                         vendor.ca->name(), absl::Now(), expires_at};
    keyline::v1::SignedVoucher voucher;
    voucher.ParseFromString(*provisioning::SignVoucher(content, *vendor.ca));
    return voucher;
  }

  static grpc::Status Import(const keyline::v1::SignedVoucher& voucher) {
    keyline::v1::ImportVouchersRequest request;
    *request.mutable_bundle()->add_vouchers() = voucher;
    keyline::v1::ImportVouchersResponse response;
    grpc::ClientContext context;
    return keyline::v1::AdminService::NewStub(fleet_->Admin())
        ->ImportVouchers(&context, request, &response);
  }

  static keyline::v1::Challenge Challenge(const SimulatedDevice& device) {
    auto challenge = testing::BeginEnrollment(fleet_->Anonymous(), device);
    EXPECT_TRUE(challenge.ok()) << challenge.status();
    return challenge.ok() ? *challenge : keyline::v1::Challenge{};
  }

  static inline testing::KeylineEnvironment::Options KeylineEnvironment_options_;
  static Fleet* fleet_;
};

Fleet* EnrollmentRejectionsTest::fleet_ = nullptr;

TEST_F(EnrollmentRejectionsTest, UnknownSerial) {
  SimulatedDevice device = ClaimedDevice("known");
  device.serial = "never-made-1";
  ExpectBeginRefused(device, absl::StatusCode::kNotFound, "device_serial: unknown device never-made-1");
}

TEST_F(EnrollmentRejectionsTest, UnclaimedDevice) {
  auto devices = fleet_->Manufacture("unclaimed", 1);
  ASSERT_TRUE(devices.ok());
  ExpectBeginRefused((*devices)[0], absl::StatusCode::kFailedPrecondition,
                     "is not claimed by a deployment");
}

TEST_F(EnrollmentRejectionsTest, ChainToAnUntrustedManufacturer) {
  // The registered attestation key, but certified by a CA Keyline does not trust.
  SimulatedDevice device = ClaimedDevice("untrusted");
  auto rogue_key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  auto rogue_info = ca::PublicKeyInfo::FromKey(rogue_key->public_key());
  ca::ProfileSettings settings;
  const ca::IssueContext root_context{settings, &*rogue_info, *ca::GenerateSerial(), absl::Now(), ""};
  const std::string rogue_root = ca::BuildCertificate(ca::RootTemplate(root_context), nullptr, *rogue_key)->der;
  auto rogue = ca::IssuingCa::Create("rogue", 0, {rogue_root}, std::move(rogue_key));
  ASSERT_TRUE(rogue.ok());
  auto key_info = ca::PublicKeyInfo::FromKey(device.attestation_key->public_key());
  const ca::IssueContext context{settings, &*key_info, *ca::GenerateSerial(), absl::Now(), "rogue"};
  device.attestation_chain = {(*rogue)->Issue(ca::AttestationTemplate(context, device.serial, "x"))->der};
  ExpectBeginRefused(device, absl::StatusCode::kFailedPrecondition, "attestation_chain: ");
}

TEST_F(EnrollmentRejectionsTest, RevokedManufacturer) {
  Vendor vendor = AddVendor("revoked-vendor");
  SimulatedDevice device = VendorDevice(vendor, "rv-0001", absl::Hours(24));
  ASSERT_TRUE(Import(Voucher(vendor, device, absl::Now() + absl::Hours(24))).ok());
  const keyline::v1::Challenge before_revocation = Challenge(device);

  keyline::v1::RevokeManufacturerRequest revoke;
  revoke.set_name("revoked-vendor");
  revoke.set_reason("key compromise at the vendor");
  keyline::v1::Manufacturer revoked;
  grpc::ClientContext context;
  ASSERT_TRUE(keyline::v1::AdminService::NewStub(fleet_->Admin())
                  ->RevokeManufacturer(&context, revoke, &revoked)
                  .ok());
  EXPECT_EQ(revoked.status(), "revoked");

  ExpectBeginRefused(device, absl::StatusCode::kFailedPrecondition,
                     "manufacturer revoked-vendor is revoked");
  // A challenge handed out before the revocation does not help either.
  const Snapshot before = Take();
  keyline::v1::EnrollmentResponse response;
  const grpc::Status status = testing::Complete(fleet_->Anonymous(), device,
                                                fleet_->secure_element(), before_revocation, {},
                                                &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_EQ(Take(), before);
}

// A revocation that commits while the enrollment's commit waits for it. The revoking transaction
// (RevokeManufacturer's two writes, as the database owner) holds the manufacturer's row and the
// audit head; the issuance batch that reads the device must wait, and once the revocation commits
// it must see the manufacturer revoked, not the status of the snapshot it started from. Otherwise
// the audit log shows a certificate issued after its manufacturer's revocation.
TEST_F(EnrollmentRejectionsTest, ManufacturerRevokedWhileTheCompletionWaitsToCommit) {
  Vendor vendor = AddVendor("racing-vendor");
  SimulatedDevice device = VendorDevice(vendor, "race-0001", absl::Hours(24));
  ASSERT_TRUE(Import(Voucher(vendor, device, absl::Now() + absl::Hours(24))).ok());
  const keyline::v1::Challenge challenge = Challenge(device);

  pqxx::connection revoker(fleet_->environment().database().owner_url);
  pqxx::work revocation(revoker);
  revocation.exec(
      "UPDATE manufacturers SET status = 'revoked', revoked_at = now() "
      "WHERE name = 'racing-vendor'");
  revocation.exec("SELECT 1 FROM audit_head FOR UPDATE");

  grpc::Status status;
  keyline::v1::EnrollmentResponse response;
  std::thread completion([&] {
    status = testing::Complete(fleet_->Anonymous(), device, fleet_->secure_element(), challenge, {},
                               &response);
  });
  // Commit only once the issuance batch waits on one of the revocation's locks.
  EXPECT_TRUE(fleet_->WaitForALockWait()) << "the completion never waited for the revocation";
  revocation.commit();
  completion.join();

  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("manufacturer is revoked"), std::string::npos)
      << status.error_message();
  EXPECT_FALSE(response.has_certificate());
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM certificates WHERE device_serial = 'race-0001' "
                          "AND profile = 'device'"),
            0);
}

TEST_F(EnrollmentRejectionsTest, DecommissionedBetweenChallengeAndCompletion) {
  // CompleteEnrollment checks the device as BeginEnrollment saw it; the issuance writer checks
  // it again under its lock, and that is where this refusal comes from.
  SimulatedDevice device = ClaimedDevice("decommissioned-late");
  const keyline::v1::Challenge challenge = Challenge(device);
  ASSERT_TRUE(fleet_->Decommission(device.serial, "dropped on the ward floor").ok());
  const Snapshot before = Take();
  for (int attempt = 0; attempt < 2; ++attempt) {  // from BeginEnrollment's snapshot, then not
    keyline::v1::EnrollmentResponse response;
    const grpc::Status status = testing::Complete(
        fleet_->Anonymous(), device, fleet_->secure_element(), challenge, {}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << attempt << ": " << status.error_message();
    EXPECT_NE(status.error_message().find("decommissioned"), std::string::npos)
        << attempt << ": " << status.error_message();
  }
  EXPECT_EQ(Take(), before);
}

TEST_F(EnrollmentRejectionsTest, ExpiredAttestationCertificate) {
  Vendor vendor = AddVendor("short-lived-vendor");
  SimulatedDevice device = VendorDevice(vendor, "sl-0001", absl::Seconds(3));
  ASSERT_TRUE(Import(Voucher(vendor, device, absl::Now() + absl::Hours(24))).ok());
  absl::SleepFor(absl::Seconds(4));
  ExpectBeginRefused(device, absl::StatusCode::kFailedPrecondition, "certificate has expired");
}

TEST_F(EnrollmentRejectionsTest, ReplayedChallenge) {
  SimulatedDevice device = ClaimedDevice("replay");
  const keyline::v1::Challenge challenge = Challenge(device);
  keyline::v1::EnrollmentResponse first;
  ASSERT_TRUE(testing::Complete(fleet_->Anonymous(), device, fleet_->secure_element(), challenge,
                                {}, &first)
                  .ok());
  const Snapshot before = Take();
  keyline::v1::EnrollmentResponse second;
  const grpc::Status status = testing::Complete(fleet_->Anonymous(), device,
                                                fleet_->secure_element(), challenge, {}, &second);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("challenge_id: already used"), std::string::npos);
  EXPECT_EQ(Take(), before);
}

TEST_F(EnrollmentRejectionsTest, RequestIdAlreadyUsedByAnotherDevice) {
  SimulatedDevice first = ClaimedDevice("rid-first");
  SimulatedDevice second = ClaimedDevice("rid-second");
  testing::EnrollmentOptions options;
  options.request_id = "shared-request-id";
  keyline::v1::EnrollmentResponse enrolled;
  ASSERT_TRUE(testing::Complete(fleet_->Anonymous(), first, fleet_->secure_element(),
                                Challenge(first), options, &enrolled)
                  .ok());
  // The second device's challenge is fresh: the reuse is found when its certificate is stored,
  // and nothing of it is.
  const keyline::v1::Challenge challenge = Challenge(second);
  const Snapshot before = Take();
  keyline::v1::EnrollmentResponse response;
  grpc::Status status = testing::Complete(fleet_->Anonymous(), second, fleet_->secure_element(),
                                          challenge, options, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_NE(status.error_message().find("request_id: already used by another device"),
            std::string::npos)
      << status.error_message();
  EXPECT_FALSE(response.has_certificate());
  EXPECT_EQ(Take(), before);
  // Its challenge was not used up: the device enrolls with a request_id of its own.
  EXPECT_TRUE(testing::Complete(fleet_->Anonymous(), second, fleet_->secure_element(), challenge,
                                {}, &response)
                  .ok());
}

TEST_F(EnrollmentRejectionsTest, ExpiredChallenge) {
  SimulatedDevice device = ClaimedDevice("slow");
  const keyline::v1::Challenge challenge = Challenge(device);
  absl::SleepFor(absl::Seconds(6));  // the suite's challenges live 5 s
  const Snapshot before = Take();
  keyline::v1::EnrollmentResponse response;
  const grpc::Status status = testing::Complete(fleet_->Anonymous(), device,
                                                fleet_->secure_element(), challenge, {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("challenge_id: expired"), std::string::npos);
  EXPECT_EQ(Take(), before);
}

TEST_F(EnrollmentRejectionsTest, ChallengeIssuedToAnotherDevice) {
  SimulatedDevice victim = ClaimedDevice("victim");
  SimulatedDevice intruder = ClaimedDevice("intruder");
  const keyline::v1::Challenge challenge = Challenge(victim);
  // The intruder proves with its own attestation key: the proof is checked against the key of
  // the device the challenge was issued to.
  const Snapshot before = Take();
  keyline::v1::EnrollmentResponse response;
  const grpc::Status status = testing::Complete(fleet_->Anonymous(), intruder,
                                                fleet_->secure_element(), challenge, {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_NE(status.error_message().find("proof: does not verify"), std::string::npos);
  EXPECT_EQ(Take(), before);
}

TEST_F(EnrollmentRejectionsTest, ChallengeHandedToAGatewayCannotBeCompletedByAnotherCaller) {
  SimulatedDevice device = ClaimedDevice("gw-bound");
  auto challenge = testing::BeginEnrollment(fleet_->Gateway(), device);
  ASSERT_TRUE(challenge.ok()) << challenge.status();
  const Snapshot before = Take();
  keyline::v1::EnrollmentResponse response;
  const grpc::Status status = testing::Complete(fleet_->Anonymous(), device,
                                                fleet_->secure_element(), *challenge, {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_EQ(Take(), before);
}

TEST_F(EnrollmentRejectionsTest, ProofOverTheWrongNonce) {
  SimulatedDevice device = ClaimedDevice("nonce");
  EnrollmentOptions options;
  options.proof_nonce_override = std::string(32, '\x5a');
  ExpectCompleteRefused(device, options, grpc::StatusCode::UNAUTHENTICATED, "proof: does not verify");
}

TEST_F(EnrollmentRejectionsTest, ProofOverTheWrongKeyHash) {
  SimulatedDevice device = ClaimedDevice("keyhash");
  EnrollmentOptions options;
  options.sign_with_wrong_key_hash = true;
  ExpectCompleteRefused(device, options, grpc::StatusCode::UNAUTHENTICATED, "proof: does not verify");
}

TEST_F(EnrollmentRejectionsTest, CsrForAKeyOtherThanTheProvenOne) {
  SimulatedDevice device = ClaimedDevice("swapped");
  EnrollmentOptions options;
  options.csr_with_other_key = true;
  ExpectCompleteRefused(device, options, grpc::StatusCode::UNAUTHENTICATED, "proof: does not verify");
}

TEST_F(EnrollmentRejectionsTest, MalformedCompletionRequests) {
  SimulatedDevice device = ClaimedDevice("malformed");
  const keyline::v1::Challenge challenge = Challenge(device);
  const auto call = [&](keyline::v1::CompleteEnrollmentRequest request) {
    keyline::v1::EnrollmentResponse response;
    grpc::ClientContext context;
    return keyline::v1::EnrollmentService::NewStub(fleet_->Anonymous())
        ->CompleteEnrollment(&context, request, &response);
  };
  const Snapshot before = Take();
  keyline::v1::CompleteEnrollmentRequest request;
  request.set_challenge_id("short");
  request.set_request_id("r1");
  auto status = call(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("challenge_id"), std::string::npos);
  request.set_challenge_id(std::string(16, '\x01'));
  status = call(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  request.set_challenge_id(challenge.challenge_id());
  request.set_request_id("");
  status = call(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("request_id: empty"), std::string::npos);
  request.set_request_id("r1");
  request.set_csr("not a csr");
  status = call(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("csr: "), std::string::npos);
  EXPECT_EQ(Take(), before);
}

TEST_F(EnrollmentRejectionsTest, AttestationCertificateIsNotAClientCertificate) {
  // A device whose attestation key Keyline's manufacturer CA certified, presenting that
  // certificate for TLS: the attestation-only profile has no clientAuth, so the handshake fails.
  SimulatedDevice device;
  device.serial = "tls-misuse-1";
  auto key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
  keyline::v1::IssueAttestationCertificatesRequest request;
  request.set_manufacturer("keyline");
  auto* entry = request.add_devices();
  entry->set_device_serial(device.serial);
  entry->set_hardware_model("x");
  entry->set_csr(*ca::CreateCsr(key->get(), device.serial));
  keyline::v1::IssueAttestationCertificatesResponse issued;
  grpc::ClientContext context;
  ASSERT_TRUE(keyline::v1::FactoryService::NewStub(fleet_->Factory())
                  ->IssueAttestationCertificates(&context, request, &issued)
                  .ok());
  const auto& certificate = issued.certificates(0);
  const auto channel = fleet_->environment().ChannelWithPem(
      ca::DerToPem(certificate.certificate()) + ca::DerToPem(certificate.chain(0)),
      *ca::PrivateKeyToPem(key->get()));
  const Snapshot before = Take();
  keyline::v1::GetDeviceRequest get;
  get.set_device_serial(device.serial);
  keyline::v1::Device response;
  grpc::ClientContext misuse;
  misuse.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const auto status =
      keyline::v1::AdminService::NewStub(channel)->GetDevice(&misuse, get, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(Take(), before);
}

TEST_F(EnrollmentRejectionsTest, VoucherWithABadSignature) {
  Vendor vendor = AddVendor("careless-vendor");
  SimulatedDevice device = VendorDevice(vendor, "cv-0001", absl::Hours(24));
  keyline::v1::SignedVoucher voucher = Voucher(vendor, device, absl::Now() + absl::Hours(24));
  std::string signature = voucher.signature();
  signature[signature.size() - 1] = static_cast<char>(signature.back() ^ 1);
  voucher.set_signature(signature);
  const Snapshot before = Take();
  const grpc::Status status = Import(voucher);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_NE(status.error_message().find("signature does not verify"), std::string::npos);
  EXPECT_EQ(Take(), before);
  auto described = fleet_->Describe("cv-0001");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->state(), "registered");
}

TEST_F(EnrollmentRejectionsTest, ExpiredVoucher) {
  Vendor vendor = AddVendor("slow-vendor");
  SimulatedDevice device = VendorDevice(vendor, "sv-0001", absl::Hours(24));
  const Snapshot before = Take();
  const grpc::Status status = Import(Voucher(vendor, device, absl::Now() - absl::Minutes(1)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("expired at"), std::string::npos);
  EXPECT_EQ(Take(), before);
}

TEST_F(EnrollmentRejectionsTest, VoucherSignedByAnotherManufacturer) {
  Vendor genuine = AddVendor("genuine-vendor");
  Vendor other = AddVendor("other-vendor");
  SimulatedDevice device = VendorDevice(genuine, "gv-0001", absl::Hours(24));
  const Snapshot before = Take();
  const grpc::Status status = Import(Voucher(other, device, absl::Now() + absl::Hours(24)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_EQ(Take(), before);
}

}  // namespace
}  // namespace keyline
