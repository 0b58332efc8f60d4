// The HSM side of a real init: every CA key is sensitive and never extractable (asked of the
// token directly and through pkcs11-tool), and a keyline-server whose PKCS#11 sessions are closed
// or logged out behind its back keeps issuing without a restart.
#include <pqxx/pqxx>

#include <gtest/gtest.h>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "ca/software_key.h"
#include "common/files.h"
#include "hsm/pin_source.h"
#include "hsm/testing/raw_pkcs11.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "server/config.h"
#include "server/hsm_setup.h"
#include "server/keyline_server.h"
#include "tests/support/keyline_environment.h"

namespace keyline {
namespace {

class HsmIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto created = testing::KeylineEnvironment::Create();
    ASSERT_TRUE(created.ok()) << created.status();
    environment_ = created->release();
    auto config = server::LoadConfig(environment_->config_path());
    ASSERT_TRUE(config.ok()) << config.status();
    config->grpc.listen = "127.0.0.1:" + std::to_string(testing::PickFreePort());
    config_ = new server::Config(*config);
    // The service runs in this process, so the test can reach behind its session pool.
    auto started = server::KeylineServer::Start(*config_);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete config_;
    delete environment_;
  }

  static std::vector<std::string> CaKeyLabels() {
    pqxx::connection connection(environment_->database().owner_url);
    pqxx::work transaction(connection);
    std::vector<std::string> labels;
    for (const auto& row : transaction.exec("SELECT key_label FROM certificate_authorities")) {
      labels.push_back(row[0].as<std::string>());
    }
    return labels;
  }

  static std::string UserPin() { return *hsm::ReadPin(config_->ResolvePinSource(config_->hsm.pin_source)); }

  static grpc::Status Issue() {
    auto key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
    keyline::v1::IssueOperatorCertificateRequest request;
    request.set_role(keyline::v1::ROLE_FACTORY);
    request.set_name("line-1");
    request.set_csr(*ca::CreateCsr(key->get(), "x"));
    keyline::v1::IssueOperatorCertificateResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return keyline::v1::AdminService::NewStub(AdminChannel())
        ->IssueOperatorCertificate(&context, request, &response);
  }

  // A P-256 key pair made through raw PKCS#11, as another program on the token could make it
  // (the Token API refuses a second key under a label); sensitive and non-extractable unless
  // `extractable`.
  static CK_RV GenerateRawKeyPair(const std::string& label, bool extractable) {
    const hsm::RawModule raw(config_->hsm.module);
    if (raw.functions() == nullptr) return CKR_GENERAL_ERROR;
    hsm::RawSession session(raw.functions(), raw.SlotOf(config_->hsm.token), CKF_RW_SESSION);
    if (session.open_rv() != CKR_OK) return session.open_rv();
    std::string pin = UserPin();
    const CK_RV login = raw.functions()->C_Login(
        session.handle(), CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(pin.data()), pin.size());
    if (login != CKR_OK && login != CKR_USER_ALREADY_LOGGED_IN) return login;
    static const unsigned char kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL sensitive = extractable ? CK_FALSE : CK_TRUE;
    CK_BBOOL may_extract = extractable ? CK_TRUE : CK_FALSE;
    std::string name = label;
    CK_ATTRIBUTE public_template[] = {
        {CKA_EC_PARAMS, const_cast<unsigned char*>(kP256), sizeof(kP256)},
        {CKA_LABEL, name.data(), name.size()},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_VERIFY, &yes, sizeof(yes)}};
    CK_ATTRIBUTE private_template[] = {{CKA_LABEL, name.data(), name.size()},
                                       {CKA_TOKEN, &yes, sizeof(yes)},
                                       {CKA_PRIVATE, &yes, sizeof(yes)},
                                       {CKA_SIGN, &yes, sizeof(yes)},
                                       {CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
                                       {CKA_EXTRACTABLE, &may_extract, sizeof(may_extract)}};
    CK_MECHANISM generate{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
    return raw.functions()->C_GenerateKeyPair(
        session.handle(), &generate, public_template, std::size(public_template), private_template,
        std::size(private_template), &public_key, &private_key);
  }

  static std::shared_ptr<grpc::Channel> AdminChannel() {
    return grpc::CreateChannel(
        config_->grpc.listen,
        grpc::SslCredentials({*ReadFile(environment_->root_file()),
                              *ReadFile(environment_->admin().key_file),
                              *ReadFile(environment_->admin().certificate_file)}));
  }

  static testing::KeylineEnvironment* environment_;
  static server::Config* config_;
  static server::KeylineServer* server_;
};

testing::KeylineEnvironment* HsmIntegrationTest::environment_ = nullptr;
server::Config* HsmIntegrationTest::config_ = nullptr;
server::KeylineServer* HsmIntegrationTest::server_ = nullptr;

TEST_F(HsmIntegrationTest, EveryCaKeyRefusesToRevealItsValue) {
  const auto labels = CaKeyLabels();
  ASSERT_EQ(labels.size(), 4u);  // root, operators, deployment/default, manufacturer/keyline
  const hsm::RawModule raw(config_->hsm.module);
  ASSERT_NE(raw.functions(), nullptr);
  const CK_SLOT_ID slot = raw.SlotOf(config_->hsm.token);
  hsm::RawSession session(raw.functions(), slot);
  ASSERT_EQ(session.open_rv(), CKR_OK);
  std::string pin = UserPin();
  const CK_RV login = raw.functions()->C_Login(
      session.handle(), CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(pin.data()), pin.size());
  ASSERT_TRUE(login == CKR_OK || login == CKR_USER_ALREADY_LOGGED_IN) << login;

  for (const auto& label : labels) {
    SCOPED_TRACE(label);
    CK_OBJECT_CLASS private_key = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE search[] = {{CKA_CLASS, &private_key, sizeof(private_key)},
                             {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_ULONG found = 0;
    ASSERT_EQ(raw.functions()->C_FindObjectsInit(session.handle(), search, 2), CKR_OK);
    raw.functions()->C_FindObjects(session.handle(), &key, 1, &found);
    raw.functions()->C_FindObjectsFinal(session.handle());
    ASSERT_EQ(found, 1u);

    unsigned char value[512];
    CK_ATTRIBUTE secret = {CKA_VALUE, value, sizeof(value)};
    EXPECT_EQ(raw.functions()->C_GetAttributeValue(session.handle(), key, &secret, 1),
              CKR_ATTRIBUTE_SENSITIVE);
    EXPECT_EQ(secret.ulValueLen, CK_UNAVAILABLE_INFORMATION);

    auto info = server_->token().DescribeKey(label);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_TRUE(info->sensitive);
    EXPECT_FALSE(info->extractable);
    EXPECT_TRUE(info->always_sensitive);
    EXPECT_TRUE(info->never_extractable);
  }
}

TEST_F(HsmIntegrationTest, Pkcs11ToolListsEveryCaKeyAsNeverExtractable) {
  auto listing = testing::RunProcess(
      {"pkcs11-tool", "--module", config_->hsm.module, "--token-label", config_->hsm.token,
       "--login", "--pin", UserPin(), "--list-objects", "--type", "privkey"},
      {{"SOFTHSM2_CONF", config_->StatePath(config_->hsm.softhsm2_conf)}});
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->exit_code, 0) << listing->err;
  for (const auto& label : CaKeyLabels()) {
    const size_t at = listing->out.find("label:      " + label + "\n");
    ASSERT_NE(at, std::string::npos) << label << "\n" << listing->out;
    const size_t access = listing->out.find("Access:", at);
    ASSERT_NE(access, std::string::npos);
    const std::string line = listing->out.substr(access, listing->out.find('\n', access) - access);
    EXPECT_NE(line.find("never extractable"), std::string::npos) << label << ": " << line;
    EXPECT_NE(line.find("sensitive"), std::string::npos) << label << ": " << line;
  }
}

// A key someone placed on the token under a label Keyline uses, extractable and not sensitive:
// Keyline refuses to sign with it, whether it looks the key up or would generate one there.
TEST_F(HsmIntegrationTest, AnExtractableKeyUnderOneOfKeylinesLabelsIsRefused) {
  const std::string label = "keyline-ca-planted";
  ASSERT_EQ(GenerateRawKeyPair(label, /*extractable=*/true), CKR_OK);
  for (const auto& found :
       {server::FindServiceKey(server_->token(), label),
        server::FindOrGenerateKey(server_->token(), label, hsm::KeyAlgorithm::kEcdsaP256)}) {
    EXPECT_EQ(found.status().code(), absl::StatusCode::kFailedPrecondition) << found.status();
    EXPECT_NE(found.status().message().find("key \"" + label + "\""), absl::string_view::npos)
        << found.status();
  }
}

// Two replicas rotating one deployment at the same moment could each make a key under the label
// the next CA takes; two keys under one label make every later look-up of it fail. Rotation keys
// get a label of their own: with two keys already under the plain label, the rotation succeeds
// on a new key.
TEST_F(HsmIntegrationTest, ARotationKeyNeverSharesItsLabel) {
  std::string plain_label;
  {
    pqxx::connection connection(environment_->database().owner_url);
    pqxx::work transaction(connection);
    plain_label = transaction
                      .exec1(
                          "SELECT key_label FROM certificate_authorities WHERE name = "
                          "'deployment/default'")[0]
                      .as<std::string>() +
                  ":2";
  }
  ASSERT_EQ(GenerateRawKeyPair(plain_label, /*extractable=*/false), CKR_OK);
  ASSERT_EQ(GenerateRawKeyPair(plain_label, /*extractable=*/false), CKR_OK);

  keyline::v1::RotateDeploymentCaRequest request;
  request.set_deployment("default");
  keyline::v1::RotateDeploymentCaResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const grpc::Status rotated = keyline::v1::AdminService::NewStub(AdminChannel())
                                   ->RotateDeploymentCa(&context, request, &response);
  ASSERT_TRUE(rotated.ok()) << rotated.error_message();
  pqxx::connection connection(environment_->database().owner_url);
  pqxx::work transaction(connection);
  const std::string label = transaction
                                .exec1(
                                    "SELECT key_label FROM certificate_authorities WHERE "
                                    "deployment = 'default' AND status = 'active'")[0]
                                .as<std::string>();
  EXPECT_NE(label, plain_label);
  EXPECT_EQ(label.rfind(plain_label + "-", 0), 0u) << label;
  const auto key = server::FindServiceKey(server_->token(), label);
  EXPECT_TRUE(key.ok()) << key.status();
}

TEST_F(HsmIntegrationTest, IssuanceSurvivesEverySessionBeingClosedBehindThePoolsBack) {
  ASSERT_TRUE(Issue().ok());
  const uint64_t recoveries = server_->token().session_recoveries();
  const hsm::RawModule raw(config_->hsm.module);
  ASSERT_EQ(raw.functions()->C_CloseAllSessions(raw.SlotOf(config_->hsm.token)), CKR_OK);
  const grpc::Status status = Issue();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(server_->token().session_recoveries(), recoveries);
  EXPECT_TRUE(Issue().ok());
}

TEST_F(HsmIntegrationTest, IssuanceSurvivesALogoutBehindThePoolsBack) {
  ASSERT_TRUE(Issue().ok());
  const uint64_t recoveries = server_->token().session_recoveries();
  const hsm::RawModule raw(config_->hsm.module);
  hsm::RawSession session(raw.functions(), raw.SlotOf(config_->hsm.token), CKF_RW_SESSION);
  ASSERT_EQ(session.open_rv(), CKR_OK);
  // Login state belongs to the application: logging out here logs out every pooled session.
  ASSERT_EQ(raw.functions()->C_Logout(session.handle()), CKR_OK);
  const grpc::Status status = Issue();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(server_->token().session_recoveries(), recoveries);
}

}  // namespace
}  // namespace keyline
