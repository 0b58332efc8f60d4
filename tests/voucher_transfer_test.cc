// Ownership moves between two Keyline instances: Keyline A (the manufacturer's) claims a device
// and exports its voucher with keylinectl; Keyline B trusts A's manufacturer CA, registers the
// device with its attestation chain, imports the voucher with keylinectl (verified against A's
// CA), and the device then enrolls with B.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "ca/certificate_der.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "keyline/v1/factory.grpc.pb.h"
#include "tests/support/fleet.h"

namespace keyline {
namespace {

TEST(VoucherTransferTest, ExportedVoucherClaimsTheDeviceOnAnotherKeyline) {
  auto a = testing::Fleet::Create({}, "voucher-se");
  ASSERT_TRUE(a.ok()) << a.status();
  auto devices = (*a)->Manufacture("moved", 1);
  ASSERT_TRUE(devices.ok()) << devices.status();
  testing::SimulatedDevice& device = (*devices)[0];
  ASSERT_TRUE((*a)->Claim(*devices).ok());
  const std::string bundle = (*a)->environment().directory() + "/moved.vouchers";
  auto exported = (*a)->environment().Keylinectl(
      {"voucher", "export", "--serial", device.serial, "--out", bundle});
  ASSERT_TRUE(exported.ok());
  ASSERT_EQ(exported->exit_code, 0) << exported->err;

  auto b = testing::KeylineEnvironment::Create();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE((*b)->StartServer().ok());
  // B trusts A's manufacturer CA: its certificate heads the chain A's factory API returns (asked
  // again for the same device, which is idempotent).
  keyline::v1::IssueAttestationCertificatesRequest again;
  again.set_manufacturer("keyline");
  auto* entry = again.add_devices();
  entry->set_device_serial(device.serial);
  entry->set_hardware_model(device.hardware_model);
  entry->set_csr(*testing::AttestationCsr(device, (*a)->secure_element()));
  keyline::v1::IssueAttestationCertificatesResponse issued;
  grpc::ClientContext context;
  ASSERT_TRUE(keyline::v1::FactoryService::NewStub((*a)->Factory())
                  ->IssueAttestationCertificates(&context, again, &issued)
                  .ok());
  const std::string anchor_file = (*b)->directory() + "/a-manufacturer.pem";
  std::ofstream(anchor_file) << ca::DerToPem(issued.certificates(0).chain(0));
  // B trusts the same CA under a second, earlier name too (a vendor's other product line): the
  // voucher is checked against the device's own manufacturer, not the first whose anchor fits.
  auto added_earlier = (*b)->Keylinectl(
      {"manufacturer", "add", "--name", "keyline-0-sensors", "--trust-anchor", anchor_file});
  ASSERT_TRUE(added_earlier.ok());
  ASSERT_EQ(added_earlier->exit_code, 0) << added_earlier->err;
  auto added = (*b)->Keylinectl(
      {"manufacturer", "add", "--name", "keyline-a", "--trust-anchor", anchor_file});
  ASSERT_TRUE(added.ok());
  ASSERT_EQ(added->exit_code, 0) << added->err;

  auto b_factory = (*b)->IssueOperator("factory", "line-b");
  ASSERT_TRUE(b_factory.ok());
  keyline::v1::RegisterDevicesRequest registration;
  registration.set_manufacturer("keyline-a");
  auto* device_entry = registration.add_devices();
  device_entry->set_device_serial(device.serial);
  device_entry->set_hardware_model(device.hardware_model);
  device_entry->add_attestation_chain(device.attestation_chain[0]);
  keyline::v1::RegisterDevicesResponse registered;
  grpc::ClientContext register_context;
  ASSERT_TRUE(keyline::v1::FactoryService::NewStub((*b)->Channel(*b_factory))
                  ->RegisterDevices(&register_context, registration, &registered)
                  .ok());
  EXPECT_EQ(registered.newly_registered(), 1);

  // Before the import the device is B's but unclaimed: no enrollment.
  auto refused = testing::Enroll((*b)->Channel(std::nullopt), device, (*a)->secure_element());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();

  auto imported = (*b)->Keylinectl({"voucher", "import", "--in", bundle});
  ASSERT_TRUE(imported.ok());
  ASSERT_EQ(imported->exit_code, 0) << imported->err << imported->out;
  auto enrolled = testing::Enroll((*b)->Channel(std::nullopt), device, (*a)->secure_element());
  ASSERT_TRUE(enrolled.ok()) << enrolled.status();
  EXPECT_EQ(enrolled->crl_url(), (*b)->status_url() + "/crl/deployment-default.crl");
}

// ValidateClaim: ClaimDevices' checks without the claim. keylinectl device claim --dry-run asks
// it, so that the dry run refuses what the claim would refuse, an unknown deployment included.
TEST(ValidateClaimTest, ChecksWhatAClaimWouldDoAndChangesNothing) {
  auto fleet = testing::Fleet::Create({}, "validate-claim-se");
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  auto first_device = (*fleet)->Manufacture("planned-first", 1);
  ASSERT_TRUE(first_device.ok()) << first_device.status();
  auto second_device = (*fleet)->Manufacture("planned-second", 1);
  ASSERT_TRUE(second_device.ok()) << second_device.status();
  const std::string first = (*first_device)[0].serial;
  const std::string second = (*second_device)[0].serial;
  auto admin = keyline::v1::AdminService::NewStub((*fleet)->Admin());
  const auto state = [&] {
    return (*fleet)->Count("SELECT count(*) FROM devices WHERE state = 'registered'") * 1000000 +
           (*fleet)->Count("SELECT count(*) FROM vouchers") * 1000 +
           (*fleet)->Count("SELECT count(*) FROM audit_log");
  };
  const int64_t before = state();
  const auto validate = [&](const std::string& deployment, const std::vector<std::string>& serials,
                            int validity_days, keyline::v1::ClaimDevicesResponse* response) {
    keyline::v1::ClaimDevicesRequest request;
    request.set_deployment(deployment);
    request.set_voucher_validity_days(validity_days);
    for (const std::string& serial : serials) request.add_device_serials(serial);
    grpc::ClientContext context;
    return admin->ValidateClaim(&context, request, response);
  };

  keyline::v1::ClaimDevicesResponse response;
  grpc::Status status = validate("default", {first, second}, 0, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.claimed(), 2);
  EXPECT_EQ(response.unchanged(), 0);

  status = validate("nowhere", {first}, 0, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "deployment: unknown deployment nowhere");
  status = validate("default", {first, "SN-NEVER-MADE"}, 0, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "device_serials[1]: unknown device SN-NEVER-MADE");
  status = validate("default", {first}, 9999, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "voucher_validity_days: 1 to 3650");
  EXPECT_EQ(state(), before) << "a validation changed the database";

  // Claimed, the first is "unchanged" for its deployment; decommissioned, it refuses the batch.
  ASSERT_TRUE((*fleet)->Claim(*first_device).ok());
  status = validate("default", {first, second}, 0, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.claimed(), 1);
  EXPECT_EQ(response.unchanged(), 1);
  auto decommissioned = (*fleet)->environment().Keylinectl(
      {"device", "decommission", "--serial", first, "--reason", "test"});
  ASSERT_TRUE(decommissioned.ok()) << decommissioned.status();
  ASSERT_EQ(decommissioned->exit_code, 0) << decommissioned->out << decommissioned->err;
  const int64_t after_decommission = state();
  status = validate("default", {second, first}, 0, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "device_serials[1]: device " + first + " is decommissioned");

  // The dry run says what the server says, and changes nothing either.
  auto unknown = (*fleet)->environment().Keylinectl(
      {"device", "claim", "--deployment", "nowhere", "--serial", second, "--dry-run"});
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_NE(unknown->exit_code, 0) << unknown->out;
  EXPECT_THAT(unknown->out, ::testing::HasSubstr("the server would refuse batch 1 of 1 (devices 1 "
                                                 "to 1): deployment: unknown deployment nowhere"));
  auto planned =
      (*fleet)->environment().Keylinectl({"--output", "json", "device", "claim", "--deployment",
                                          "default", "--serial", second, "--dry-run"});
  ASSERT_TRUE(planned.ok()) << planned.status();
  EXPECT_EQ(planned->exit_code, 0) << planned->out << planned->err;
  const nlohmann::json plan = nlohmann::json::parse(planned->out, nullptr, false);
  EXPECT_EQ(plan.value("would_claim", -1), 1) << planned->out;
  EXPECT_EQ(plan.value("server_checked", false), true) << planned->out;
  EXPECT_EQ(state(), after_decommission) << "a dry run changed the database";
}

}  // namespace
}  // namespace keyline
