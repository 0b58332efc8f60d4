#include "cli/station_batch.h"

#include <stdlib.h>

#include <filesystem>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ca/certificate_der.h"
#include "common/files.h"

namespace keyline::cli {
namespace {

using ::testing::HasSubstr;
using keyline::v1::IssueAttestationCertificatesRequest;
using keyline::v1::IssueAttestationCertificatesResponse;

std::vector<StationDevice> Devices(size_t count) {
  std::vector<StationDevice> devices;
  for (size_t i = 0; i < count; ++i) {
    devices.push_back({i + 2, "SN-" + std::to_string(i), "M", "csr-" + std::to_string(i), {}});
  }
  return devices;
}

class StationBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/station_batch_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A fake FactoryService: "certificate" i of a request is "cert:<serial>", the chain a fake
  // CA and root; the first `already` devices of every batch were registered before.
  IssueAttestationCall FakeIssue(int already = 0) {
    return [this, already](const IssueAttestationCertificatesRequest& request)
               -> absl::StatusOr<IssueAttestationCertificatesResponse> {
      requests_.push_back(request);
      IssueAttestationCertificatesResponse response;
      for (const auto& device : request.devices()) {
        auto* issued = response.add_certificates();
        issued->set_certificate("cert:" + device.device_serial());
        issued->add_chain("manufacturer-ca");
        issued->add_chain("root");
      }
      response.set_newly_registered(request.devices_size() - already);
      return response;
    };
  }

  std::ostringstream progress_out_;
  Progress progress_{progress_out_, false, "registering", 0};
  std::vector<IssueAttestationCertificatesRequest> requests_;
  std::string dir_;
};

TEST_F(StationBatchTest, SendsBatchesInOrderAndWritesEachCertificate) {
  const auto devices = Devices(2500);
  const StationRun run =
      IssueAttestationInBatches(devices, "keyline", 1000, dir_, FakeIssue(10), progress_);
  ASSERT_TRUE(run.status.ok()) << run.status;
  ASSERT_EQ(requests_.size(), 3u);
  EXPECT_EQ(requests_[0].devices_size(), 1000);
  EXPECT_EQ(requests_[1].devices_size(), 1000);
  EXPECT_EQ(requests_[2].devices_size(), 500);
  EXPECT_EQ(requests_[0].manufacturer(), "keyline");
  EXPECT_EQ(requests_[1].devices(0).device_serial(), "SN-1000");
  EXPECT_EQ(requests_[2].devices(499).csr(), "csr-2499");
  EXPECT_EQ(requests_[2].devices(499).hardware_model(), "M");

  EXPECT_EQ(run.totals.devices, 2500u);
  EXPECT_EQ(run.totals.sent, 2500u);
  EXPECT_EQ(run.totals.batches, 3u);
  EXPECT_EQ(run.totals.newly_registered, 2470);
  EXPECT_EQ(run.totals.already_registered, 30);
  EXPECT_EQ(progress_.done(), 2500);

  // The certificate then the manufacturer CA, without the root.
  const auto pem = ReadFile(AttestationCertificatePath(dir_, "SN-1234"));
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_EQ(*pem, ca::DerToPem("cert:SN-1234") + ca::DerToPem("manufacturer-ca"));
}

TEST_F(StationBatchTest, StopsAtAFailedBatchAndNamesItsCsvLines) {
  const auto devices = Devices(25);
  int calls = 0;
  const StationRun run = IssueAttestationInBatches(
      devices, "keyline", 10, dir_,
      [&](const IssueAttestationCertificatesRequest& request)
          -> absl::StatusOr<IssueAttestationCertificatesResponse> {
        if (++calls == 2) {
          return absl::AlreadyExistsError(
              "devices[3].device_serial: SN-13 is registered with a different attestation key");
        }
        return FakeIssue()(request);
      },
      progress_);
  EXPECT_EQ(run.status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(run.status.ToString(),
              HasSubstr("batch 2 of 3 (items 11 to 20): CSV lines 12 to 21: devices[3]"));
  EXPECT_THAT(run.status.ToString(), HasSubstr("(CSV line 15, serial SN-13)"));
  EXPECT_EQ(calls, 2);  // nothing after the failure
  EXPECT_EQ(run.totals.sent, 10u);
  EXPECT_EQ(run.totals.batches, 1u);
  EXPECT_TRUE(FileExists(AttestationCertificatePath(dir_, "SN-9")));
  EXPECT_FALSE(FileExists(AttestationCertificatePath(dir_, "SN-10")));
}

// Keyline committed the batch; only the station's files failed (a full disk, a missing
// directory): the batch counts as registered, and the message says how to get the files.
TEST_F(StationBatchTest, ABatchWhoseFilesCannotBeWrittenIsStillCountedAsRegistered) {
  const auto devices = Devices(5);
  const StationRun run =
      IssueAttestationInBatches(devices, "keyline", 10, dir_ + "/missing", FakeIssue(1), progress_);
  EXPECT_FALSE(run.status.ok());
  EXPECT_THAT(run.status.ToString(),
              HasSubstr("registered by Keyline, but the certificate files were not written"));
  EXPECT_THAT(run.status.ToString(), HasSubstr("run again with the same CSV"));
  EXPECT_EQ(run.totals.newly_registered, 4);
  EXPECT_EQ(run.totals.already_registered, 1);
}

TEST_F(StationBatchTest, RefusesAResponseWithTheWrongNumberOfCertificates) {
  const auto devices = Devices(3);
  const StationRun run = IssueAttestationInBatches(
      devices, "keyline", 10, dir_,
      [&](const IssueAttestationCertificatesRequest&)
          -> absl::StatusOr<IssueAttestationCertificatesResponse> {
        IssueAttestationCertificatesResponse response;
        response.add_certificates()->set_certificate("only one");
        return response;
      },
      progress_);
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(run.status.ToString(), HasSubstr("returned 1 certificates for 3 devices"));
  EXPECT_FALSE(FileExists(AttestationCertificatePath(dir_, "SN-0")));
}

TEST_F(StationBatchTest, RegistersExternalChainsInBatches) {
  auto devices = Devices(7);
  for (auto& device : devices) device.chain_der = {"leaf:" + device.serial, "vendor-ca"};
  std::vector<keyline::v1::RegisterDevicesRequest> requests;
  const StationRun run = RegisterExternalInBatches(
      devices, "acme", 5,
      [&](const keyline::v1::RegisterDevicesRequest& request)
          -> absl::StatusOr<keyline::v1::RegisterDevicesResponse> {
        requests.push_back(request);
        keyline::v1::RegisterDevicesResponse response;
        response.set_newly_registered(request.devices_size() - 1);
        response.set_unchanged(1);
        return response;
      },
      progress_);
  ASSERT_TRUE(run.status.ok()) << run.status;
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].manufacturer(), "acme");
  EXPECT_EQ(requests[1].devices_size(), 2);
  ASSERT_EQ(requests[1].devices(1).attestation_chain_size(), 2);
  EXPECT_EQ(requests[1].devices(1).attestation_chain(0), "leaf:SN-6");
  EXPECT_EQ(run.totals.newly_registered, 5);
  EXPECT_EQ(run.totals.already_registered, 2);
}

}  // namespace
}  // namespace keyline::cli
