#include "cli/station_csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include <filesystem>

#include "ca/certificate_der.h"
#include "ca/software_key.h"
#include "cli/testing/test_pki.h"
#include "common/files.h"

namespace keyline::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Pem(std::string_view type, std::string_view der) {
  std::string base64(4 * ((der.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()),
                                     reinterpret_cast<const unsigned char*>(der.data()),
                                     static_cast<int>(der.size()));
  base64.resize(static_cast<size_t>(length));
  std::string pem = "-----BEGIN " + std::string(type) + "-----\n";
  for (size_t i = 0; i < base64.size(); i += 64) pem += base64.substr(i, 64) + "\n";
  return pem + "-----END " + std::string(type) + "-----\n";
}

class StationCsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/station_csv_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string NewCsr() {
    auto key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
    EXPECT_TRUE(key.ok());
    auto csr = ca::CreateCsr(key->get(), "secure element");
    EXPECT_TRUE(csr.ok());
    return *csr;
  }
  void Write(const std::string& name, std::string_view contents) {
    std::filesystem::create_directories(std::filesystem::path(dir_ + "/" + name).parent_path());
    ASSERT_TRUE(WriteFileAtomically(dir_ + "/" + name, contents).ok());
  }
  absl::StatusOr<std::vector<StationDevice>> Parse(std::string_view csv,
                                                   StationCsvKind kind = StationCsvKind::kCsr) {
    Write("devices.csv", csv);
    return ReadStationCsv(dir_ + "/devices.csv", kind);
  }

  std::string dir_;
};

TEST(SplitCsvRecordTest, FollowsRfc4180Quoting) {
  EXPECT_THAT(*SplitCsvRecord("a,b,c"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(*SplitCsvRecord(" a , b ,c "), ElementsAre("a", "b", "c"));
  EXPECT_THAT(*SplitCsvRecord(R"(SN-1,"Sensor, rev ""B""",x.csr)"),
              ElementsAre("SN-1", R"(Sensor, rev "B")", "x.csr"));
  EXPECT_THAT(*SplitCsvRecord("a,,"), ElementsAre("a", "", ""));
  EXPECT_FALSE(SplitCsvRecord(R"(a,"open,c)").ok());
  EXPECT_FALSE(SplitCsvRecord(R"(a,"x"y,c)").ok());
  EXPECT_FALSE(SplitCsvRecord(R"(a,x"y,c)").ok());
}

TEST_F(StationCsvTest, ReadsDerAndPemRequestsRelativeToTheCsv) {
  const std::string der = NewCsr();
  const std::string second = NewCsr();
  Write("csr/sn-1.der", der);
  Write("csr/sn-2.pem", Pem("CERTIFICATE REQUEST", second));
  const auto devices = Parse(
      "\xEF\xBB\xBFserial,model,csr_file\r\n"
      "SN-1,StO2-Sensor-R2,csr/sn-1.der\r\n"
      "\r\n"
      "SN-2,\"StO2 Sensor, R3\",csr/sn-2.pem\r\n");
  ASSERT_TRUE(devices.ok()) << devices.status();
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].line, 2u);
  EXPECT_EQ((*devices)[0].serial, "SN-1");
  EXPECT_EQ((*devices)[0].csr_der, der);
  EXPECT_EQ((*devices)[1].line, 4u);
  EXPECT_EQ((*devices)[1].model, "StO2 Sensor, R3");
  EXPECT_EQ((*devices)[1].csr_der, second);  // PEM sent as DER
}

TEST_F(StationCsvTest, RefusesAWrongHeader) {
  const auto devices = Parse("serial,csr_file,model\nSN-1,x,y\n");
  EXPECT_EQ(devices.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(devices.status().ToString(), HasSubstr("devices.csv:1: the header must be "
                                                     "serial,model,csr_file"));
  EXPECT_THAT(
      Parse("serial,model,csr_file\nSN-1,M,x.pem\n", StationCsvKind::kChain).status().ToString(),
      HasSubstr("serial,model,chain_file"));
}

TEST_F(StationCsvTest, NamesTheLineOfEveryKindOfBadEntry) {
  Write("good.der", NewCsr());
  Write("garbage.der", "not a CSR");
  const std::string header = "serial,model,csr_file\nSN-1,M,good.der\n";
  struct Case {
    std::string line;
    std::string expected;
    absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  } cases[] = {
      {"SN 2,M,good.der", "devices.csv:3: serial"},
      {",M,good.der", "devices.csv:3: serial"},
      {"SN-2,,good.der", "devices.csv:3: model"},
      {"SN-2,M", "devices.csv:3: 2 fields, expected 3"},
      {"SN-2,M,good.der,extra", "devices.csv:3: 4 fields"},
      {"SN-2,M,missing.der", "devices.csv:3: ", absl::StatusCode::kNotFound},
      {"SN-2,M,garbage.der", "devices.csv:3: csr_file garbage.der"},
      {"SN-2,M,", "devices.csv:3: csr_file: empty"},
      {"SN-2,\"M,good.der", "devices.csv:3: unterminated quoted field"},
      {"SN-1,M,good.der", "devices.csv:3: serial SN-1 repeats line 2"},
      {"SN-2,M,good.der", "devices.csv:3: the same attestation key as line 2"},
  };
  for (const Case& test : cases) {
    const auto devices = Parse(header + test.line + "\n");
    EXPECT_EQ(devices.status().code(), test.code) << test.line;
    EXPECT_THAT(devices.status().ToString(), HasSubstr(test.expected)) << test.line;
  }
  // A bad line after many good ones still refuses the whole file.
  std::string many = "serial,model,csr_file\n";
  for (int i = 0; i < 50; ++i) {
    const std::string name = "csr/" + std::to_string(i) + ".der";
    Write(name, NewCsr());
    many += "SN-" + std::to_string(i) + ",M," + name + "\n";
  }
  EXPECT_THAT(Parse(many + "SN-50,M,garbage.der\n").status().ToString(),
              HasSubstr("devices.csv:52:"));
}

TEST_F(StationCsvTest, RefusesAFileWithoutDevices) {
  EXPECT_THAT(Parse("").status().ToString(), HasSubstr("empty"));
  EXPECT_THAT(Parse("serial,model,csr_file\n\n").status().ToString(), HasSubstr("no devices"));
}

TEST_F(StationCsvTest, ReadsExternalAttestationChains) {
  testing::TestPki pki;
  const testing::TestCa vendor = pki.IssueCa(ca::Profile::kManufacturerCa, "vendor");
  auto key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
  ASSERT_TRUE(key.ok());
  const std::string leaf = pki.IssueAttestation(vendor, key->get(), "SN-9", "M");
  Write("chains/sn-9.pem", ca::DerToPem(leaf) + ca::DerToPem(vendor.der));
  Write("chains/ca-first.pem", ca::DerToPem(vendor.der) + ca::DerToPem(leaf));
  Write("chains/empty.pem", "nothing here\n");

  const auto devices =
      Parse("serial,model,chain_file\nSN-9,M,chains/sn-9.pem\n", StationCsvKind::kChain);
  ASSERT_TRUE(devices.ok()) << devices.status();
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_THAT((*devices)[0].chain_der, ElementsAre(leaf, vendor.der));

  EXPECT_THAT(
      Parse("serial,model,chain_file\nSN-9,M,chains/ca-first.pem\n", StationCsvKind::kChain)
          .status()
          .ToString(),
      HasSubstr("devices.csv:2: chain_file chains/ca-first.pem: the first certificate is a CA"));
  EXPECT_THAT(Parse("serial,model,chain_file\nSN-9,M,chains/empty.pem\n", StationCsvKind::kChain)
                  .status()
                  .ToString(),
              HasSubstr("devices.csv:2:"));
  EXPECT_THAT(Parse("serial,model,chain_file\nSN-9,M,chains/sn-9.pem\nSN-10,M,chains/sn-9.pem\n",
                    StationCsvKind::kChain)
                  .status()
                  .ToString(),
              HasSubstr("devices.csv:3: the same device certificate as line 2"));
}

}  // namespace
}  // namespace keyline::cli
