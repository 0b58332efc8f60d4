// Acceptance: 8 threads issuing 5,000 certificates through gRPC get 5,000 distinct serials, and
// the database holds every one of them (with one audit event each).
#include <pqxx/pqxx>

#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "ca/software_key.h"
#include "common/hex.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "tests/support/keyline_environment.h"

namespace keyline {
namespace {

constexpr int kThreads = 8;
constexpr int kCertificates = 5000;

TEST(ConcurrentIssuanceTest, FiveThousandCertificatesFromEightThreadsAreAllDistinctAndStored) {
  auto environment = testing::KeylineEnvironment::Create();
  ASSERT_TRUE(environment.ok()) << environment.status();
  ASSERT_TRUE((*environment)->StartServer().ok());

  // A few CSRs, reused: each issuance still gets its own serial and certificate.
  std::vector<std::string> csrs;
  for (int i = 0; i < 16; ++i) {
    auto key = ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256);
    csrs.push_back(*ca::CreateCsr(key->get(), "load"));
  }

  std::vector<std::vector<std::string>> serials(kThreads);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::string> first_error(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = keyline::v1::AdminService::NewStub((*environment)->Channel((*environment)->admin()));
      for (int i = t; i < kCertificates; i += kThreads) {
        keyline::v1::IssueOperatorCertificateRequest request;
        request.set_role(keyline::v1::ROLE_GATEWAY);
        request.set_name("gw-" + std::to_string(i % 100));
        request.set_csr(csrs[static_cast<size_t>(i) % csrs.size()]);
        keyline::v1::IssueOperatorCertificateResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        const auto status = stub->IssueOperatorCertificate(&context, request, &response);
        if (status.ok()) {
          serials[t].push_back(response.certificate().serial());
        } else if (failures[t]++ == 0) {
          first_error[t] = status.error_message();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<std::string> distinct;
  size_t returned = 0;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], 0) << "thread " << t << ": " << first_error[t];
    returned += serials[t].size();
    distinct.insert(serials[t].begin(), serials[t].end());
  }
  EXPECT_EQ(returned, static_cast<size_t>(kCertificates));
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kCertificates));

  pqxx::connection connection((*environment)->database().owner_url);
  pqxx::work transaction(connection);
  std::set<std::string> stored;
  for (const auto& row : transaction.exec(
           "SELECT encode(serial, 'hex') FROM certificates WHERE profile = 'operator' "
           "AND subject LIKE 'urn:keyline:role:gateway:%'")) {
    stored.insert(row[0].as<std::string>());
  }
  EXPECT_EQ(stored, distinct);
  EXPECT_EQ(transaction
                .exec1("SELECT count(*) FROM audit_log WHERE action = "
                       "'operator.certificate.issued' AND details->>'role' = 'gateway'")[0]
                .as<int>(),
            kCertificates);
  // The chain stays gap-free under concurrent appends.
  const auto chain = transaction.exec1("SELECT count(*), max(seq) FROM audit_log");
  EXPECT_EQ(chain[0].as<int64_t>(), chain[1].as<int64_t>());
}

}  // namespace
}  // namespace keyline
