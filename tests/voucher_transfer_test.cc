// Ownership moves between two Keyline instances: Keyline A (the manufacturer's) claims a device
// and exports its voucher with keylinectl; Keyline B trusts A's manufacturer CA, registers the
// device with its attestation chain, imports the voucher with keylinectl (verified against A's
// CA), and the device then enrolls with B.
#include <fstream>

#include <gtest/gtest.h>

#include "ca/certificate_der.h"
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

}  // namespace
}  // namespace keyline
