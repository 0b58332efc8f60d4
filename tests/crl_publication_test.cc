// CRLs across replicas (server/crl_publisher.h): one replica, the holder of the publisher lease,
// signs them; every replica serves the very bytes it stored. Two keyline-server processes on one
// PostgreSQL and one HSM token; CRLs are fetched over HTTP and read by openssl.
//
// Before the lease, each replica signed its own CRLs from its own status feed with numbers from
// the shared sequence: replica B's CRLs differed from A's in their bytes, and a B whose feed lagged
// could publish a higher number without a revocation A's lower one listed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <pqxx/connection>
#include <pqxx/transaction>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "keyline/v1/admin.grpc.pb.h"
#include "tests/support/fleet.h"
#include "tests/support/relying_party.h"

namespace keyline {
namespace {

using ::testing::Contains;
using ::testing::Not;

constexpr char kFull[] = "deployment-default.crl";
constexpr char kDelta[] = "deployment-default-delta.crl";
// A replica takes up what was stored every crl_delta_interval (1 s by default).
constexpr absl::Duration kGiveUp = absl::Seconds(20);

// The CRL `file` as served at `status_url`; empty when it is not served.
std::string FetchCrl(const std::string& status_url, const std::string& file) {
  const absl::StatusOr<testing::HttpReply> reply =
      testing::HttpGet(absl::StrCat(status_url, "/crl/", file));
  if (!reply.ok() || reply->status != 200) return "";
  return reply->body;
}

// What openssl says of a CRL's bytes: its numbering and its serials.
struct Seen {
  testing::CrlFacts facts;
  std::vector<std::string> serials;
};
Seen Read(const std::string& directory, const std::string& name, const std::string& der) {
  const std::string path = absl::StrCat(directory, "/", name);
  std::ofstream(path, std::ios::binary) << der;
  Seen seen;
  absl::StatusOr<testing::CrlFacts> facts = testing::ReadCrlFacts(path);
  EXPECT_TRUE(facts.ok()) << facts.status();
  if (facts.ok()) seen.facts = *facts;
  absl::StatusOr<std::vector<std::string>> serials = testing::CrlSerials(path);
  EXPECT_TRUE(serials.ok()) << serials.status();
  if (serials.ok()) seen.serials = *serials;
  return seen;
}

class CrlPublicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A secure-element token of its own for each test (labels are unique per SoftHSM2 directory).
    static int tests = 0;
    testing::KeylineEnvironment::Options options;
    // CA syncs a minute apart: a CA rotated elsewhere must reach the CRL publisher otherwise.
    options.status_yaml = "  resync_interval_seconds: 60\n";
    auto fleet = testing::Fleet::Create(options, absl::StrCat("crl-publication-se-", ++tests));
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = *std::move(fleet);
    auto replica = fleet_->environment().StartReplica("replica-b");
    ASSERT_TRUE(replica.ok()) << replica.status();
    replica_ = *std::move(replica);
  }

  std::string A() const { return fleet_->environment().status_url(); }
  std::string B() const { return replica_->status_url(); }
  const std::string& Directory() const { return fleet_->environment().directory(); }

  // Enrolls a device and revokes its certificate through replica A; its lower-case hex serial.
  std::string EnrollAndRevoke(const std::string& name) {
    auto device = testing::EnrollDeviceToFiles(*fleet_, name, Directory());
    EXPECT_TRUE(device.ok()) << device.status();
    if (!device.ok()) return "";
    auto revoked = fleet_->environment().Keylinectl(
        {"revoke", "--serial", device->serial, "--reason", "keyCompromise"});
    EXPECT_TRUE(revoked.ok()) << revoked.status();
    if (revoked.ok()) {
      EXPECT_EQ(revoked->exit_code, 0) << revoked->out << revoked->err;
    }
    return device->serial;
  }

  // Enrolls a device and revokes its certificate behind every replica's back: as the database
  // owner, dated an hour ago, without the notification revocations send. No status feed ever
  // reads it (their look-back is seconds); only a full read of the revocations finds it.
  std::string EnrollAndRevokeSilently(const std::string& name) {
    auto device = testing::EnrollDeviceToFiles(*fleet_, name, Directory());
    EXPECT_TRUE(device.ok()) << device.status();
    if (!device.ok()) return "";
    pqxx::connection owner(fleet_->environment().database().owner_url);
    pqxx::work work(owner);
    work.exec0(
        "UPDATE certificates SET status = 'revoked', revoked_at = now() - interval '1 hour', "
        "revocation_reason = 1 WHERE serial = decode('" +
        device->serial + "', 'hex')");
    work.commit();
    return device->serial;
  }

  // Waits until both replicas serve `file` with the same bytes, listing `serial`; those bytes.
  std::string WaitForTheSameCrlListing(const std::string& file, const std::string& serial) {
    const absl::Time deadline = absl::Now() + kGiveUp;
    std::string from_a;
    std::string from_b;
    for (;;) {
      from_a = FetchCrl(A(), file);
      from_b = FetchCrl(B(), file);
      if (!from_a.empty() && from_a == from_b &&
          absl::c_linear_search(Read(Directory(), "listing.crl", from_a).serials, serial)) {
        return from_a;
      }
      if (absl::Now() > deadline) break;
      absl::SleepFor(absl::Milliseconds(250));
    }
    ADD_FAILURE() << file << " not served alike, listing " << serial << ", after " << kGiveUp
                  << ": A's " << from_a.size() << " octets, B's " << from_b.size();
    return "";
  }

  std::unique_ptr<testing::Fleet> fleet_;
  std::unique_ptr<testing::KeylineEnvironment::Replica> replica_;
};

TEST_F(CrlPublicationTest, BothReplicasServeTheBytesTheHolderSigned) {
  // Replica A started first and holds the lease; B serves what A stored from its start on.
  const std::string full_a = FetchCrl(A(), kFull);
  ASSERT_FALSE(full_a.empty());
  const std::string full_b = FetchCrl(B(), kFull);
  EXPECT_TRUE(full_b == full_a) << "B serves another full CRL: number "
                                << Read(Directory(), "full-b.crl", full_b).facts.crl_number
                                << ", A's "
                                << Read(Directory(), "full-a.crl", full_a).facts.crl_number;

  const std::string serial = EnrollAndRevoke("revoked-through-a");
  ASSERT_FALSE(serial.empty());
  const std::string delta = WaitForTheSameCrlListing(kDelta, serial);
  ASSERT_FALSE(delta.empty());
  const Seen seen = Read(Directory(), "delta.crl", delta);
  EXPECT_GT(seen.facts.base_crl_number, 0);
  EXPECT_GT(seen.facts.crl_number, Read(Directory(), "full.crl", full_a).facts.crl_number);
}

TEST_F(CrlPublicationTest, WhenTheHolderDiesAnotherReplicaTakesOverWithEverythingItListed) {
  const std::string first = EnrollAndRevoke("before-the-crash");
  ASSERT_FALSE(first.empty());
  const std::string unseen = EnrollAndRevokeSilently("revoked-unseen");
  ASSERT_FALSE(unseen.empty());
  const std::string delta_by_a = WaitForTheSameCrlListing(kDelta, first);
  ASSERT_FALSE(delta_by_a.empty());
  const Seen seen_by_a = Read(Directory(), "delta-a.crl", delta_by_a);

  // A dies without giving the lease up: B takes it once it has run out (15 s), and starts
  // with a full CRL of its own, numbered after everything A published, listing A's revocation.
  ASSERT_EQ(kill(fleet_->environment().server_pid(), SIGKILL), 0);
  fleet_->environment().StopServer();
  const absl::Time deadline = absl::Now() + kGiveUp + absl::Seconds(15);
  Seen full_by_b;
  do {
    absl::SleepFor(absl::Milliseconds(250));
    const std::string full = FetchCrl(B(), kFull);
    if (!full.empty()) full_by_b = Read(Directory(), "full-b.crl", full);
  } while (full_by_b.facts.crl_number <= seen_by_a.facts.crl_number && absl::Now() < deadline);
  ASSERT_GT(full_by_b.facts.crl_number, seen_by_a.facts.crl_number) << "B never took over";
  EXPECT_THAT(full_by_b.serials, Contains(first));
  // B read every revocation before its first CRL, not only what its feed brought.
  EXPECT_THAT(full_by_b.serials, Contains(unseen));

  // A comes back as a replica that does not publish: a revocation through it reaches the CRLs B
  // signs, and A serves B's bytes.
  ASSERT_TRUE(fleet_->environment().StartServer().ok());
  const std::string second = EnrollAndRevoke("after-the-crash");
  ASSERT_FALSE(second.empty());
  const std::string delta_by_b = WaitForTheSameCrlListing(kDelta, second);
  ASSERT_FALSE(delta_by_b.empty());
  const Seen seen_by_b = Read(Directory(), "delta-b.crl", delta_by_b);
  EXPECT_GT(seen_by_b.facts.crl_number, full_by_b.facts.crl_number);
  EXPECT_EQ(seen_by_b.facts.base_crl_number, full_by_b.facts.crl_number);
  EXPECT_THAT(seen_by_b.serials, Not(Contains(first)));  // a delta: only what came after its base
}

TEST_F(CrlPublicationTest, ACaRotatedOnAReplicaThatDoesNotPublishGetsCrlsFromTheHolderAtOnce) {
  // B holds the lease: A stops, giving it up; B takes it over and signs a full CRL of its own;
  // A comes back.
  const int64_t by_a = Read(Directory(), "a.crl", FetchCrl(A(), kFull)).facts.crl_number;
  ASSERT_GT(by_a, 0);
  fleet_->environment().StopServer();
  const absl::Time deadline = absl::Now() + kGiveUp;
  while (Read(Directory(), "b.crl", FetchCrl(B(), kFull)).facts.crl_number <= by_a &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(250));
  }
  ASSERT_GT(Read(Directory(), "b.crl", FetchCrl(B(), kFull)).facts.crl_number, by_a);
  ASSERT_TRUE(fleet_->environment().StartServer().ok());

  // Rotated through A, which takes the new CA into service at once; B would look for it at its
  // next CA sync, a minute away, but sees the certificates the new CA issues (its OCSP signer,
  // then a device's) and takes it now: both serve its CRLs within seconds.
  auto rotated = fleet_->environment().Keylinectl({"ca", "rotate", "--deployment", "default"});
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  ASSERT_EQ(rotated->exit_code, 0) << rotated->err;
  const std::string serial = EnrollAndRevoke("under-the-new-ca");
  ASSERT_FALSE(serial.empty());
  const std::string delta = WaitForTheSameCrlListing("deployment-default:2-delta.crl", serial);
  ASSERT_FALSE(delta.empty());
  EXPECT_EQ(Read(Directory(), "new-ca-delta.crl", delta).serials.size(), 1u);
}

TEST_F(CrlPublicationTest, AHolderThatCannotStoreItsCrlsStandsAsideForAnother) {
  const auto as_owner = [&](const std::string& sql) {
    pqxx::connection owner(fleet_->environment().database().owner_url);
    pqxx::work work(owner);
    const pqxx::result result = work.exec(sql);
    work.commit();
    return result;
  };
  const auto term = [&] {
    return as_owner("SELECT term FROM crl_publisher_lease")[0][0].as<int>();
  };
  ASSERT_EQ(term(), 1);  // A's, since it started

  // Storing CRLs fails from now on (for every replica: the grant is the role's), and a revocation
  // makes a delta due at every round. After three failed rounds A gives the lease up, and B takes
  // it: a new term. A holder that renewed regardless would keep term 1 and freeze the CRLs.
  as_owner("REVOKE INSERT, UPDATE ON published_crls FROM keyline_service");
  const std::string serial = EnrollAndRevoke("due-but-unstorable");
  ASSERT_FALSE(serial.empty());
  const absl::Time deadline = absl::Now() + kGiveUp;
  while (term() == 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(250));
  EXPECT_GT(term(), 1) << "replica A kept the lease while failing";
  as_owner("GRANT INSERT, UPDATE ON published_crls TO keyline_service");
}

}  // namespace
}  // namespace keyline
