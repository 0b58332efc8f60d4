// Interop: Python's grpcio (stubs generated from proto/ at test time) against keyline-server.
#include <gtest/gtest.h>

#include "tests/support/keyline_environment.h"

namespace keyline {
namespace {

TEST(PythonInteropTest, GrpcioClientIssuesAnOperatorCertificate) {
  auto environment = testing::KeylineEnvironment::Create();
  ASSERT_TRUE(environment.ok()) << environment.status();
  ASSERT_TRUE((*environment)->StartServer().ok());
  const auto admin = (*environment)->admin();
  const std::string source = testing::SourceDir();
  // Debian's python3 (with python3-grpcio), not whatever python3 comes first on PATH.
  auto result = testing::RunProcess(
      {"/usr/bin/python3", source + "/tests/interop/issue_operator_certificate.py",
       (*environment)->target(), (*environment)->root_file(), admin.certificate_file,
       admin.key_file, source + "/proto"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0) << result->out << result->err;
  EXPECT_EQ(result->out.rfind("OK ", 0), 0u) << result->out << result->err;
}

TEST(PythonInteropTest, GrpcioClientEnrollsADeviceWithKeysItMakesItself) {
  auto environment = testing::KeylineEnvironment::Create();
  ASSERT_TRUE(environment.ok()) << environment.status();
  ASSERT_TRUE((*environment)->StartServer().ok());
  auto factory = (*environment)->IssueOperator("factory", "py-line");
  ASSERT_TRUE(factory.ok()) << factory.status();
  const auto admin = (*environment)->admin();
  const std::string source = testing::SourceDir();
  auto result = testing::RunProcess(
      {"/usr/bin/python3", source + "/tests/interop/enroll_device.py", (*environment)->target(),
       (*environment)->root_file(), admin.certificate_file, admin.key_file,
       factory->certificate_file, factory->key_file, source + "/proto", "PY-0001"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0) << result->out << result->err;
  EXPECT_EQ(result->out.rfind("OK ", 0), 0u) << result->out << result->err;
}

}  // namespace
}  // namespace keyline
