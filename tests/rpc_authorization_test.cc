// The authorization table, tested over every RPC of every service and every kind of caller:
// no client certificate, a device, and each operator role. A caller the table does not allow is
// refused (UNAUTHENTICATED without a certificate, PERMISSION_DENIED otherwise) before the request
// is looked at; an allowed caller gets past authorization (the empty request then fails
// validation, which changes nothing).
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "ca/serial_number.h"
#include "ca/software_key.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "keyline/v1/enrollment.grpc.pb.h"
#include "keyline/v1/factory.grpc.pb.h"
#include "provisioning/rpc_roles.h"
#include "tests/support/fleet.h"
#include "tests/support/raw_unary_call.h"

namespace keyline {
namespace {

using provisioning::CallerKind;
using testing::Fleet;

grpc::Status CallWithEmptyRequest(const std::shared_ptr<grpc::Channel>& channel,
                                  const std::string& method) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (method == "/keyline.v1.AdminService/ReadAuditLog") {
    keyline::v1::ReadAuditLogRequest request;
    request.set_limit(1);
    auto reader = keyline::v1::AdminService::NewStub(channel)->ReadAuditLog(&context, request);
    keyline::v1::AuditRecord record;
    while (reader->Read(&record)) {
    }
    return reader->Finish();
  }
  return testing::CallUnaryWithRawRequest(channel, method, grpc::Slice(""));  // an empty message
}

class RpcAuthorizationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto fleet = Fleet::Create({}, "authorization-se");
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = fleet->release();
    // A device with its certificate and a key gRPC can use.
    auto devices = fleet_->Manufacture("authz", 1);
    ASSERT_TRUE(devices.ok()) << devices.status();
    ASSERT_TRUE(fleet_->Claim(*devices).ok());
    testing::EnrollmentOptions options;
    options.software_deployment_key = true;
    testing::SimulatedDevice& device = (*devices)[0];
    auto enrolled = testing::Enroll(fleet_->Anonymous(), device, fleet_->secure_element(), options);
    ASSERT_TRUE(enrolled.ok()) << enrolled.status();
    const auto& issued = enrolled->certificate();
    device_chain_ = ca::DerToPem(issued.certificate()) + ca::DerToPem(issued.chain(0));
    device_key_ = *ca::PrivateKeyToPem(device.deployment_key->public_key());
    auto admin = fleet_->environment().admin();
    auto factory = fleet_->factory();
    auto gateway = fleet_->gateway();
    channels_ = {
        {CallerKind::kAnonymous, fleet_->Anonymous()},
        {CallerKind::kDevice, fleet_->environment().ChannelWithPem(device_chain_, device_key_)},
        {CallerKind::kAdmin, fleet_->Admin()},
        {CallerKind::kFactory, fleet_->Factory()},
        {CallerKind::kGateway, fleet_->Gateway()},
    };
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }

  static Fleet* fleet_;
  static inline std::string device_chain_;
  static inline std::string device_key_;
  static inline std::vector<std::pair<CallerKind, std::shared_ptr<grpc::Channel>>> channels_;
};

Fleet* RpcAuthorizationTest::fleet_ = nullptr;

TEST_F(RpcAuthorizationTest, TheTableNamesEveryRpcOfEveryService) {
  std::set<std::string> in_table;
  for (const auto& entry : provisioning::RpcCallerTable()) in_table.insert(std::string(entry.method));
  size_t methods = 0;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const char* name : {"keyline.v1.AdminService", "keyline.v1.FactoryService",
                           "keyline.v1.EnrollmentService"}) {
    const auto* service = pool->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method =
          absl::StrCat("/", service->full_name(), "/", service->method(i)->name());
      EXPECT_TRUE(in_table.contains(method)) << method << " is missing from the table";
      ++methods;
    }
  }
  EXPECT_EQ(in_table.size(), methods);
}

TEST_F(RpcAuthorizationTest, EveryCallerKindOnEveryRpc) {
  const int64_t audit_rows = fleet_->Count("SELECT count(*) FROM audit_log");
  int refused = 0;
  for (const auto& entry : provisioning::RpcCallerTable()) {
    const std::string method(entry.method);
    for (const auto& [kind, channel] : channels_) {
      const bool allowed =
          std::find(entry.allowed.begin(), entry.allowed.end(), kind) != entry.allowed.end();
      const grpc::Status status = CallWithEmptyRequest(channel, method);
      SCOPED_TRACE(absl::StrCat(method, " as ", AsAbsl(provisioning::CallerKindName(kind)), ": ",
                                static_cast<int>(status.error_code()), " ",
                                status.error_message()));
      if (allowed) {
        EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNAVAILABLE);
        continue;
      }
      ++refused;
      if (kind == CallerKind::kAnonymous) {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
        EXPECT_NE(status.error_message().find("no client certificate"), std::string::npos);
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        EXPECT_NE(status.error_message().find("may not call " + method), std::string::npos);
      }
    }
  }
  EXPECT_GT(refused, 50);
  EXPECT_EQ(fleet_->Count("SELECT count(*) FROM audit_log"), audit_rows);
}

// A revoked operator certificate stops working on every RPC, on a connection opened before the
// revocation too (TLS checked it only at the handshake): within the status feed's second.
TEST_F(RpcAuthorizationTest, ARevokedOperatorCertificateIsRefusedOnItsOpenConnection) {
  auto station = fleet_->environment().IssueOperator("factory", "line-stolen");
  ASSERT_TRUE(station.ok()) << station.status();
  const std::shared_ptr<grpc::Channel> channel = fleet_->environment().Channel(*station);
  const std::string method = "/keyline.v1.FactoryService/RegisterDevices";
  const grpc::Status before = CallWithEmptyRequest(channel, method);
  ASSERT_EQ(before.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << before.error_message();

  auto pem = ReadFile(station->certificate_file);
  ASSERT_TRUE(pem.ok()) << pem.status();
  auto chain = ca::PemToDerChain(*pem);
  ASSERT_TRUE(chain.ok() && !chain->empty());
  auto leaf = ca::ParseCertificateDer(chain->front());
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  keyline::v1::RevokeRequest revoke;
  revoke.add_targets()->set_certificate_serial(ca::SerialOf(leaf->get()));
  revoke.set_reason("keyCompromise");
  keyline::v1::RevokeResponse revoked;
  grpc::ClientContext context;
  ASSERT_TRUE(
      keyline::v1::AdminService::NewStub(fleet_->Admin())->Revoke(&context, revoke, &revoked).ok());
  ASSERT_EQ(revoked.revoked_size(), 1);

  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  grpc::Status after;
  do {
    after = CallWithEmptyRequest(channel, method);
  } while (after.error_code() != grpc::StatusCode::UNAUTHENTICATED && absl::Now() < deadline);
  EXPECT_EQ(after.error_code(), grpc::StatusCode::UNAUTHENTICATED) << after.error_message();
  EXPECT_EQ(after.error_message(), "client certificate is revoked");
  // The suite's own factory station is untouched.
  EXPECT_EQ(CallWithEmptyRequest(fleet_->Factory(), method).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace keyline
