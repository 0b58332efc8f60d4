#include "provisioning/caller_authenticator.h"

#include <gtest/gtest.h>

#include <set>

#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/public_key_info.h"
#include "ca/serial_number.h"
#include "provisioning/testing/test_pki.h"

namespace keyline::provisioning {
namespace {

class CallerAuthenticatorTest : public ::testing::Test {
 protected:
  CallerAuthenticatorTest()
      : authenticator_(pki_.operator_ca->certificate(),
                       {{"default", pki_.deployment_ca->certificate()}}) {}
  testing::TestPki pki_;
  CallerAuthenticator authenticator_;
};

TEST_F(CallerAuthenticatorTest, NoCertificateIsAnAnonymousCaller) {
  auto caller = authenticator_.Identify("");
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->kind, CallerKind::kAnonymous);
  EXPECT_EQ(caller->uri, "anonymous");
}

TEST_F(CallerAuthenticatorTest, OperatorsByRole) {
  for (const auto& [role, kind] : std::vector<std::pair<ca::OperatorRole, CallerKind>>{
           {ca::OperatorRole::kAdmin, CallerKind::kAdmin},
           {ca::OperatorRole::kFactory, CallerKind::kFactory},
           {ca::OperatorRole::kGateway, CallerKind::kGateway}}) {
    auto caller = authenticator_.Identify(pki_.Operator(role, "op-1").pem);
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ(caller->kind, kind);
    EXPECT_EQ(caller->name, "op-1");
    EXPECT_EQ(caller->uri, ca::OperatorUri(role, "op-1"));
  }
}

// A connection outlives its handshake: each call checks the certificate again. The identity comes
// from the cache on the second call, and the check still applies.
TEST_F(CallerAuthenticatorTest, ARevokedOperatorCertificateIsRefusedEvenWhenCached) {
  const testing::Leaf admin = pki_.Operator(ca::OperatorRole::kAdmin, "revoked-admin");
  const testing::Leaf device = pki_.Device("SN-9");
  ASSERT_TRUE(authenticator_.Identify(admin.pem).ok());  // cached now
  std::set<std::string> revoked;
  authenticator_.SetRevokedCheck(
      [&revoked](std::string_view serial) { return revoked.contains(std::string(serial)); });
  ASSERT_TRUE(authenticator_.Identify(admin.pem).ok());
  revoked.insert(authenticator_.Identify(admin.pem)->certificate_serial);
  revoked.insert(authenticator_.Identify(device.pem)->certificate_serial);
  const auto refused = authenticator_.Identify(admin.pem);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(refused.status().message(), "client certificate is revoked");
  // A device's revoked certificate is its handlers' to refuse (Renew says why).
  EXPECT_TRUE(authenticator_.Identify(device.pem).ok());
}

TEST_F(CallerAuthenticatorTest, AnExpiredCertificateIsRefused) {
  auto caller = authenticator_.Identify(pki_.Operator(ca::OperatorRole::kGateway, "gw").pem);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_TRUE(CheckCurrent(*caller, caller->certificate_not_after, {}).ok());
  const absl::Status expired =
      CheckCurrent(*caller, caller->certificate_not_after + absl::Seconds(1), {});
  EXPECT_EQ(expired.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(expired.message().find("client certificate expired at"), absl::string_view::npos)
      << expired;
  EXPECT_TRUE(CheckCurrent(Caller{}, absl::InfiniteFuture(), {}).ok());  // anonymous
}

TEST_F(CallerAuthenticatorTest, DevicesOfTheirDeployment) {
  auto caller = authenticator_.Identify(pki_.Device("SN-7").pem);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->kind, CallerKind::kDevice);
  EXPECT_EQ(caller->deployment, "default");
  EXPECT_EQ(caller->device_serial, "SN-7");
  EXPECT_EQ(caller->certificate_serial.size(), 16u);
}

TEST_F(CallerAuthenticatorTest, RefusesAttestationCertificates) {
  auto caller = authenticator_.Identify(pki_.Attestation("SN-8").pem);
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kPermissionDenied) << caller.status();
}

TEST_F(CallerAuthenticatorTest, RefusesOperatorUrisFromTheDeploymentCa) {
  // A device CA must not be able to mint operators: an operator URI in a certificate the
  // deployment CA issued is not a device URI of its deployment.
  testing::Leaf forged;
  forged.key = ca::testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  auto info = *ca::PublicKeyInfo::FromKey(forged.key->public_key());
  const ca::IssueContext context{pki_.settings, &info, *ca::GenerateSerial(), absl::Now(),
                                 pki_.deployment_ca->name()};
  forged.der = pki_.deployment_ca
                   ->Issue(ca::OperatorTemplate(context, ca::OperatorRole::kAdmin, "mallory"))
                   ->der;
  auto caller = authenticator_.Identify(ca::DerToPem(forged.der));
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kPermissionDenied) << caller.status();
}

TEST_F(CallerAuthenticatorTest, RefusesCertificatesOfAnotherPki) {
  testing::TestPki other;
  auto caller = authenticator_.Identify(other.Operator(ca::OperatorRole::kAdmin, "x").pem);
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authenticator_.Identify("garbage").status().code(), absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace keyline::provisioning
