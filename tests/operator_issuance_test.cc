// End to end: keyline-server (init + serve as processes, real PostgreSQL and SoftHSM2) issuing
// operator certificates through AdminService, checked by independent validators (openssl verify,
// gnutls certtool) and by what the database holds afterwards.
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <fstream>

#include <gtest/gtest.h>

#include "ca/certificate_der.h"
#include "ca/serial_number.h"
#include "ca/software_key.h"
#include "common/files.h"
#include "common/hex.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "tests/support/keyline_environment.h"

namespace keyline {
namespace {

using testing::KeylineEnvironment;
using testing::OperatorCredential;
using testing::RunProcess;

class OperatorIssuanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto created = KeylineEnvironment::Create();
    ASSERT_TRUE(created.ok()) << created.status();
    environment_ = created->release();
    ASSERT_TRUE(environment_->StartServer().ok());
  }
  static void TearDownTestSuite() {
    delete environment_;
    environment_ = nullptr;
  }

  static int64_t Count(const std::string& table) {
    pqxx::connection connection(environment_->database().owner_url);
    pqxx::work transaction(connection);
    return transaction.exec1("SELECT count(*) FROM " + table)[0].as<int64_t>();
  }

  static keyline::v1::IssueOperatorCertificateRequest Request(const std::string& csr) {
    keyline::v1::IssueOperatorCertificateRequest request;
    request.set_role(keyline::v1::ROLE_FACTORY);
    request.set_name("line-7");
    request.set_csr(csr);
    return request;
  }

  static std::string GoodCsr() {
    auto key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
    return *ca::CreateCsr(key->get(), "ignored");
  }

  static grpc::Status Call(const keyline::v1::IssueOperatorCertificateRequest& request,
                           const std::optional<OperatorCredential>& who,
                           keyline::v1::IssueOperatorCertificateResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return keyline::v1::AdminService::NewStub(environment_->Channel(who))
        ->IssueOperatorCertificate(&context, request, response);
  }

  // Calls with the request and expects `code` with `text` in the message, and no new rows.
  static void ExpectRejected(const keyline::v1::IssueOperatorCertificateRequest& request,
                             grpc::StatusCode code, const std::string& text,
                             const std::optional<OperatorCredential>& who) {
    const int64_t certificates = Count("certificates");
    const int64_t audit = Count("audit_log");
    const int64_t operators = Count("operators");
    keyline::v1::IssueOperatorCertificateResponse response;
    const grpc::Status status = Call(request, who, &response);
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_NE(status.error_message().find(text), std::string::npos) << status.error_message();
    EXPECT_FALSE(response.has_certificate());
    EXPECT_EQ(Count("certificates"), certificates);
    EXPECT_EQ(Count("audit_log"), audit);
    EXPECT_EQ(Count("operators"), operators);
  }
  static void ExpectRejected(const keyline::v1::IssueOperatorCertificateRequest& request,
                             grpc::StatusCode code, const std::string& text) {
    ExpectRejected(request, code, text, environment_->admin());
  }

  static KeylineEnvironment* environment_;
};

KeylineEnvironment* OperatorIssuanceTest::environment_ = nullptr;

TEST_F(OperatorIssuanceTest, KeylinectlIssuesACertificateThatIndependentValidatorsAccept) {
  const std::string key = environment_->directory() + "/line-3.key";
  const std::string certificate = environment_->directory() + "/line-3.crt";
  auto issued = environment_->Keylinectl({"--output", "json", "operator", "issue", "--role",
                                          "factory", "--name", "line-3", "--out-key", key,
                                          "--out-cert", certificate});
  ASSERT_TRUE(issued.ok());
  ASSERT_EQ(issued->exit_code, 0) << issued->err;
  const auto json = nlohmann::json::parse(issued->out);
  EXPECT_EQ(json["uri"], "urn:keyline:role:factory:line-3");
  EXPECT_EQ(json["serial"].get<std::string>().size(), 32u);

  struct stat key_info {};
  ASSERT_EQ(stat(key.c_str(), &key_info), 0);
  EXPECT_EQ(key_info.st_mode & 0777, 0600u);

  auto openssl = RunProcess({"openssl", "verify", "-purpose", "sslclient", "-x509_strict",
                             "-CAfile", environment_->root_file(), "-untrusted", certificate,
                             certificate});
  ASSERT_TRUE(openssl.ok());
  EXPECT_EQ(openssl->exit_code, 0) << openssl->out << openssl->err;
  EXPECT_NE(openssl->out.find(": OK"), std::string::npos) << openssl->out;

  auto certtool = RunProcess({"certtool", "--verify", "--load-ca-certificate",
                              environment_->root_file(), "--infile", certificate});
  ASSERT_TRUE(certtool.ok());
  EXPECT_EQ(certtool->exit_code, 0) << certtool->out << certtool->err;
  EXPECT_NE(certtool->out.find("Chain verification output: Verified."), std::string::npos)
      << certtool->out;

  // Stored, with its operator and its audit event, as the admin who asked.
  pqxx::connection connection(environment_->database().owner_url);
  pqxx::work transaction(connection);
  const auto row = transaction.exec_params1(
      "SELECT c.profile, c.subject, a.actor, a.action FROM certificates c "
      "JOIN audit_log a ON a.target = encode(c.serial, 'hex') WHERE encode(c.serial, 'hex') = $1",
      json["serial"].get<std::string>());
  EXPECT_EQ(row[0].as<std::string>(), "operator");
  EXPECT_EQ(row[1].as<std::string>(), "urn:keyline:role:factory:line-3");
  EXPECT_EQ(row[2].as<std::string>(), "urn:keyline:role:admin:admin");
  EXPECT_EQ(row[3].as<std::string>(), "operator.certificate.issued");
  EXPECT_EQ(transaction.exec1("SELECT count(*) FROM operators WHERE role = 'factory' AND name = 'line-3'")[0]
                .as<int>(),
            1);
}

TEST_F(OperatorIssuanceTest, TheIssuedCredentialAuthenticatesWithItsRole) {
  auto factory = environment_->IssueOperator("factory", "line-9");
  ASSERT_TRUE(factory.ok()) << factory.status();
  // A factory station may not issue operator certificates.
  ExpectRejected(Request(GoodCsr()), grpc::StatusCode::PERMISSION_DENIED,
                 "role factory may not call /keyline.v1.AdminService/IssueOperatorCertificate",
                 *factory);
  // An admin issued by the bootstrap admin may.
  auto second_admin = environment_->IssueOperator("admin", "alice");
  ASSERT_TRUE(second_admin.ok()) << second_admin.status();
  keyline::v1::IssueOperatorCertificateResponse response;
  EXPECT_TRUE(Call(Request(GoodCsr()), *second_admin, &response).ok());
}

TEST_F(OperatorIssuanceTest, ResponseCarriesTheChainUpToTheRoot) {
  keyline::v1::IssueOperatorCertificateResponse response;
  ASSERT_TRUE(Call(Request(GoodCsr()), environment_->admin(), &response).ok());
  const auto& issued = response.certificate();
  ASSERT_EQ(issued.chain_size(), 2);
  auto root_pem = ReadFile(environment_->root_file());
  ASSERT_TRUE(root_pem.ok());
  EXPECT_EQ(ca::PemToDerChain(*root_pem)->front(), issued.chain(1));
  auto leaf = ca::ParseCertificateDer(issued.certificate());
  auto issuer = ca::ParseCertificateDer(issued.chain(0));
  ASSERT_TRUE(leaf.ok() && issuer.ok());
  EXPECT_EQ(X509_check_issued(issuer->get(), leaf->get()), X509_V_OK);
  EXPECT_EQ(HexEncode(ca::SerialOf(leaf->get())), issued.serial());
  EXPECT_GT(issued.not_after().seconds(), issued.not_before().seconds());
}

TEST_F(OperatorIssuanceTest, RejectsMalformedDer) {
  ExpectRejected(Request("\x30\x03\x02\x01\x01"), grpc::StatusCode::INVALID_ARGUMENT,
                 "csr: not a DER PKCS#10 certificate request");
}

TEST_F(OperatorIssuanceTest, RejectsMalformedPem) {
  ExpectRejected(Request("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"),
                 grpc::StatusCode::INVALID_ARGUMENT, "csr: not a PEM certificate request");
}

TEST_F(OperatorIssuanceTest, RejectsWrongCsrSignature) {
  std::string csr = GoodCsr();
  csr.back() = static_cast<char>(csr.back() ^ 0x01);
  ExpectRejected(Request(csr), grpc::StatusCode::INVALID_ARGUMENT, "csr: signature does not verify");
}

TEST_F(OperatorIssuanceTest, RejectsRsa1024) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  // CreateCsr signs with SHA-256 whatever the key; the policy must refuse the key size.
  ExpectRejected(Request(*ca::CreateCsr(key.get(), "x")), grpc::StatusCode::INVALID_ARGUMENT,
                 "csr: RSA key of 1024 bits, at least 2048 required");
}

TEST_F(OperatorIssuanceTest, RejectsUnsupportedCurve) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-224"));
  ExpectRejected(Request(*ca::CreateCsr(key.get(), "x")), grpc::StatusCode::INVALID_ARGUMENT,
                 "csr: unsupported curve secp224r1");
}

TEST_F(OperatorIssuanceTest, RejectsOversizedCsr) {
  ExpectRejected(Request(std::string(64 * 1024 + 1, '\x30')), grpc::StatusCode::INVALID_ARGUMENT,
                 "csr: 65537 bytes, larger than the limit of 65536");
}

TEST_F(OperatorIssuanceTest, RejectsEmptyAndBadNames) {
  auto request = Request(GoodCsr());
  request.set_name("");
  ExpectRejected(request, grpc::StatusCode::INVALID_ARGUMENT, "name: empty");
  request.set_name("Line 3");
  ExpectRejected(request, grpc::StatusCode::INVALID_ARGUMENT, "name: ");
}

TEST_F(OperatorIssuanceTest, RejectsUnknownAndMissingRoles) {
  auto request = Request(GoodCsr());
  request.set_role(static_cast<keyline::v1::Role>(99));
  ExpectRejected(request, grpc::StatusCode::INVALID_ARGUMENT, "role: unknown value 99");
  request.set_role(keyline::v1::ROLE_UNSPECIFIED);
  ExpectRejected(request, grpc::StatusCode::INVALID_ARGUMENT, "role: required");
}

TEST_F(OperatorIssuanceTest, RejectsCallerWithoutCertificate) {
  ExpectRejected(Request(GoodCsr()), grpc::StatusCode::UNAUTHENTICATED, "no client certificate",
                 std::nullopt);
}

TEST_F(OperatorIssuanceTest, KeylinectlReportsRejectionsWithCodeAndField) {
  auto result = environment_->Keylinectl({"operator", "issue", "--role", "root", "--name", "x",
                                          "--out-key", environment_->directory() + "/never.key"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 1);
  EXPECT_NE(result->err.find("role: unknown role 'root'"), std::string::npos) << result->err;
  EXPECT_FALSE(FileExists(environment_->directory() + "/never.key"));

  const std::string bad_csr = environment_->directory() + "/bad.csr";
  std::ofstream(bad_csr) << "not a csr";
  result = environment_->Keylinectl({"--output", "json", "operator", "issue", "--role", "gateway",
                                     "--name", "gw-1", "--csr", bad_csr});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 1);
  const auto error = nlohmann::json::parse(result->err);
  EXPECT_EQ(error["error"]["code"], "INVALID_ARGUMENT");
  EXPECT_NE(error["error"]["message"].get<std::string>().find("csr: "), std::string::npos);
}

TEST_F(OperatorIssuanceTest, RefusesTls12) {
  const std::string address = "127.0.0.1:" + std::to_string(environment_->grpc_port());
  auto tls12 = RunProcess({"openssl", "s_client", "-connect", address, "-tls1_2", "-CAfile",
                           environment_->root_file()},
                          {}, absl::Seconds(20), "Q\n");
  ASSERT_TRUE(tls12.ok());
  EXPECT_NE(tls12->exit_code, 0) << tls12->out;
  auto tls13 = RunProcess({"openssl", "s_client", "-connect", address, "-tls1_3", "-CAfile",
                           environment_->root_file(), "-alpn", "h2"},
                          {}, absl::Seconds(20), "Q\n");
  ASSERT_TRUE(tls13.ok());
  EXPECT_NE(tls13->out.find("New, TLSv1.3, Cipher is"), std::string::npos) << tls13->out << tls13->err;
  EXPECT_NE(tls13->out.find("Verify return code: 0 (ok)"), std::string::npos) << tls13->out;
}

}  // namespace
}  // namespace keyline

namespace keyline {
namespace {

TEST_F(OperatorIssuanceTest, ASecondServerOnTheSamePortRefusesToStart) {
  auto second = testing::RunProcess({KeylineEnvironment::Program("keyline-server"), "--config",
                                     environment_->config_path(), "serve"},
                                    {}, absl::Seconds(60));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->exit_code, 1);
  EXPECT_NE(second->err.find("grpc.listen: cannot listen on"), std::string::npos) << second->err;
}

}  // namespace
}  // namespace keyline

namespace keyline {
namespace {

// An operator moves the bootstrap admin key off the server, as one should, then runs init again
// (to add a CA, say): no new admin key appears on the server's disk. --reissue-admin is the way
// back when every admin credential is lost.
TEST(InitAdminCredentialTest, InitDoesNotIssueAnotherAdminAfterTheFirstWasMovedAway) {
  auto environment = KeylineEnvironment::Create();
  ASSERT_TRUE(environment.ok()) << environment.status();
  const OperatorCredential admin = (*environment)->admin();
  const auto admin_certificates = [&] {
    pqxx::connection connection((*environment)->database().owner_url);
    pqxx::work transaction(connection);
    return transaction
        .exec1(
            "SELECT count(*) FROM certificates WHERE profile = 'operator' AND "
            "subject = 'urn:keyline:role:admin:admin'")[0]
        .as<int>();
  };
  ASSERT_EQ(admin_certificates(), 1);
  for (const std::string& file : {admin.key_file, admin.certificate_file}) {
    ASSERT_EQ(std::rename(file.c_str(), (file + ".offline").c_str()), 0) << file;
  }
  const auto init = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {KeylineEnvironment::Program("keyline-server"), "--config",
                                     (*environment)->config_path(), "init"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto result = RunProcess(argv);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : testing::ProcessResult{};
  };

  const testing::ProcessResult again = init({});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE((again.out + again.err).find("admin.bootstrap.kept_elsewhere"), std::string::npos)
      << again.out << again.err;
  EXPECT_FALSE(FileExists(admin.key_file));
  EXPECT_FALSE(FileExists(admin.certificate_file));
  EXPECT_EQ(admin_certificates(), 1);

  const testing::ProcessResult reissued = init({"--reissue-admin"});
  EXPECT_EQ(reissued.exit_code, 0) << reissued.err;
  EXPECT_TRUE(FileExists(admin.key_file));
  EXPECT_TRUE(FileExists(admin.certificate_file));
  EXPECT_EQ(admin_certificates(), 2);
}

}  // namespace
}  // namespace keyline
