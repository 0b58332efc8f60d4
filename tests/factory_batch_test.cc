// Factory batches at production size: a thousand devices in one call, through FactoryService
// directly and through keyline-station from a CSV, atomic and idempotent.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ca/certificate_der.h"
#include "ca/software_key.h"
#include "common/files.h"
#include "common/hex.h"
#include "keyline/v1/factory.grpc.pb.h"
#include "tests/support/fleet.h"

namespace keyline {
namespace {

class FactoryBatchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto fleet = testing::Fleet::Create({}, "factory-batch-se");
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = fleet->release();
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }
  static testing::Fleet* fleet_;
};

testing::Fleet* FactoryBatchTest::fleet_ = nullptr;

TEST_F(FactoryBatchTest, AThousandDevicesInOneCall) {
  keyline::v1::IssueAttestationCertificatesRequest request;
  request.set_manufacturer("keyline");
  for (int i = 0; i < 1000; ++i) {
    auto key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
    auto* entry = request.add_devices();
    entry->set_device_serial(absl::StrFormat("bulk-%04d", i));
    entry->set_hardware_model("StO2-Sensor R2");
    entry->set_csr(*ca::CreateCsr(key->get(), entry->device_serial()));
  }
  keyline::v1::IssueAttestationCertificatesResponse response;
  grpc::ClientContext context;
  const auto status = keyline::v1::FactoryService::NewStub(fleet_->Factory())
                          ->IssueAttestationCertificates(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.certificates_size(), 1000);
  EXPECT_EQ(response.newly_registered(), 1000);
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM devices WHERE serial LIKE 'bulk-%'"), 1000);
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM certificates WHERE profile = 'attestation' AND "
                          "device_serial LIKE 'bulk-%'"),
            1000);

  // One bad entry refuses the whole batch, naming it, and stores nothing.
  keyline::v1::IssueAttestationCertificatesRequest bad = request;
  for (int i = 0; i < bad.devices_size(); ++i) {
    bad.mutable_devices(i)->set_device_serial(absl::StrFormat("bulk2-%04d", i));
  }
  bad.mutable_devices(731)->set_csr("not a csr");
  keyline::v1::IssueAttestationCertificatesResponse refused;
  grpc::ClientContext bad_context;
  const auto bad_status = keyline::v1::FactoryService::NewStub(fleet_->Factory())
                              ->IssueAttestationCertificates(&bad_context, bad, &refused);
  EXPECT_EQ(bad_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad_status.error_message().find("devices[731].csr"), std::string::npos)
      << bad_status.error_message();
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM devices WHERE serial LIKE 'bulk2-%'"), 0);

  // A registered serial with another key refuses the batch too.
  keyline::v1::IssueAttestationCertificatesRequest conflicting;
  conflicting.set_manufacturer("keyline");
  auto* entry = conflicting.add_devices();
  entry->set_device_serial("bulk-0007");
  entry->set_hardware_model("StO2-Sensor R2");
  auto other_key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
  entry->set_csr(*ca::CreateCsr(other_key->get(), "bulk-0007"));
  keyline::v1::IssueAttestationCertificatesResponse conflict_response;
  grpc::ClientContext conflict_context;
  const auto conflict = keyline::v1::FactoryService::NewStub(fleet_->Factory())
                            ->IssueAttestationCertificates(&conflict_context, conflicting,
                                                           &conflict_response);
  EXPECT_EQ(conflict.error_code(), grpc::StatusCode::ALREADY_EXISTS) << conflict.error_message();
  EXPECT_NE(conflict.error_message().find("devices[0].device_serial: bulk-0007"), std::string::npos);
}

// A station that times out and sends its batch again while the first call still runs: both calls
// sign, one of them registers the devices, and both must answer with the certificates that were
// stored, as a retry after the first call would (same key, same result). The loser's own
// signatures are never stored and must not be handed out.
TEST_F(FactoryBatchTest, TwoCallsWithOneBatchAtOnceAnswerTheStoredCertificates) {
  constexpr int kDevices = 200;
  keyline::v1::IssueAttestationCertificatesRequest request;
  request.set_manufacturer("keyline");
  for (int i = 0; i < kDevices; ++i) {
    auto key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
    auto* entry = request.add_devices();
    entry->set_device_serial(absl::StrFormat("twice-%04d", i));
    entry->set_hardware_model("StO2-Sensor R2");
    entry->set_csr(*ca::CreateCsr(key->get(), entry->device_serial()));
  }
  std::array<keyline::v1::IssueAttestationCertificatesResponse, 2> responses;
  std::array<grpc::Status, 2> statuses;
  std::vector<std::thread> stations;
  for (size_t k = 0; k < 2; ++k) {
    stations.emplace_back([&, k] {
      grpc::ClientContext context;
      statuses[k] = keyline::v1::FactoryService::NewStub(fleet_->Factory())
                        ->IssueAttestationCertificates(&context, request, &responses[k]);
    });
  }
  for (std::thread& station : stations) station.join();
  for (size_t k = 0; k < 2; ++k) {
    ASSERT_TRUE(statuses[k].ok()) << statuses[k].error_message();
    ASSERT_EQ(responses[k].certificates_size(), kDevices);
  }
  EXPECT_EQ(responses[0].newly_registered() + responses[1].newly_registered(), kDevices);
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM certificates WHERE profile = 'attestation' AND "
                          "device_serial LIKE 'twice-%'"),
            kDevices);
  for (size_t k = 0; k < 2; ++k) {
    std::string serials, certificates;
    for (int i = 0; i < kDevices; ++i) {
      absl::StrAppend(&serials, i > 0 ? "," : "", "'", request.devices(i).device_serial(), "'");
      absl::StrAppend(&certificates, i > 0 ? "," : "", "'",
                      HexEncode(responses[k].certificates(i).certificate()), "'");
    }
    EXPECT_EQ(fleet_->Count(absl::StrCat("SELECT count(*) FROM devices d JOIN unnest(ARRAY[",
                                         serials, "], ARRAY[", certificates,
                                         "]) AS a (serial, der) ON d.serial = a.serial AND "
                                         "d.attestation_certificate = decode(a.der, 'hex')")),
              kDevices)
        << "call " << k << " answered certificates that are not the stored ones";
  }
}

TEST_F(FactoryBatchTest, KeylineStationRegistersACsvAndRefusesABadLine) {
  const std::string dir = fleet_->environment().directory() + "/station";
  ASSERT_TRUE(MakeDirectories(dir, 0755).ok());
  std::ofstream csv(dir + "/devices.csv");
  csv << "serial,model,csr_file\n";
  for (int i = 0; i < 20; ++i) {
    const std::string serial = absl::StrFormat("line-%02d", i);
    auto key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
    ASSERT_TRUE(WriteFileAtomically(dir + "/" + serial + ".csr", *ca::CreateCsr(key->get(), serial)).ok());
    csv << serial << ",StO2-Sensor R2," << serial << ".csr\n";
  }
  csv.close();
  const auto& factory = fleet_->factory();
  const std::vector<std::string> station = {
      testing::KeylineEnvironment::Program("cli/keyline-station"), "--server",
      fleet_->environment().target(), "--ca", fleet_->environment().root_file(), "--cert",
      factory.certificate_file, "--key", factory.key_file, "--output", "json"};
  auto run = [&](const std::string& csv_file) {
    std::vector<std::string> argv = station;
    argv.insert(argv.end(), {"register", "--manufacturer", "keyline", "--csv", csv_file,
                             "--out-dir", dir + "/out"});
    return testing::RunProcess(argv);
  };
  auto first = run(dir + "/devices.csv");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->exit_code, 0) << first->err << first->out;
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM devices WHERE serial LIKE 'line-%'"), 20);
  auto pem = ReadFile(dir + "/out/line-07.crt");
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(ca::PemToDerChain(*pem)->size(), 2u);  // the certificate and the manufacturer CA

  auto again = run(dir + "/devices.csv");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->exit_code, 0) << again->err;
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM devices WHERE serial LIKE 'line-%'"), 20);

  std::ofstream(dir + "/bad.csv") << "serial,model,csr_file\nline-x1,StO2-Sensor R2,line-00.csr\n"
                                  << "line-x2,StO2-Sensor R2,missing.csr\n";
  auto bad = run(dir + "/bad.csv");
  ASSERT_TRUE(bad.ok());
  EXPECT_NE(bad->exit_code, 0);
  EXPECT_NE((bad->err + bad->out).find("bad.csv:3:"), std::string::npos) << bad->err << bad->out;
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM devices WHERE serial LIKE 'line-x%'"), 0);
}

}  // namespace
}  // namespace keyline
