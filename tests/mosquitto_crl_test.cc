// Issue 6, acceptance 2: a mosquitto broker that checks device certificates against Keyline's CRL.
// Everything is real: keyline-server (PostgreSQL, SoftHSM2) issues the device certificates through
// enrollment and serves the CRL, mosquitto 2.0 is the broker and mosquitto_pub the device.
//
// mosquitto's `crlfile` is PEM, read when a listener starts and again on SIGHUP, and turns on
// X509_V_FLAG_CRL_CHECK (the leaf's CRL only, not X509_V_FLAG_CRL_CHECK_ALL): the deployment CA's
// full CRL is all it needs. mosquitto knows no delta CRLs, so the test gives Keyline a short
// crl_full_interval and waits for the full CRL to list the revocation.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "tests/support/fleet.h"
#include "tests/support/relying_party.h"

namespace keyline {
namespace {

using testing::DeviceFiles;
using ::testing::HasSubstr;
using testing::ProcessResult;

class Broker {
 public:
  Broker(std::string directory, int port) : directory_(std::move(directory)), port_(port) {}

  // Writes the configuration and starts mosquitto; waits until it runs.
  [[nodiscard]] absl::Status Start(const std::string& trust_anchor) {
    ++starts_;
    // The broker's own certificate comes from a CA of its own, which the devices are given
    // (--cafile); a client needs a certificate chaining to Keyline's root and not on the CRL.
    // `user root`: started as root, mosquitto would switch to the mosquitto user, which cannot read
    // the test's files.
    const std::string config = absl::StrCat(
        "per_listener_settings false\n"
        "persistence false\n"
        "log_dest stderr\n"
        "log_type all\n"
        "user root\n"
        "listener ",
        port_,
        " 127.0.0.1\n"
        "tls_version tlsv1.3\n"
        "certfile ",
        directory_,
        "/broker.pem\n"
        "keyfile ",
        directory_,
        "/broker.key\n"
        "cafile ",
        trust_anchor,
        "\n"
        "require_certificate true\n"
        "use_identity_as_username true\n"
        "crlfile ",
        directory_, "/crl.pem\n");
    if (auto written = WriteFileAtomically(directory_ + "/mosquitto.conf", config); !written.ok()) {
      return written;
    }
    auto child =
        testing::ChildProcess::Spawn({"mosquitto", "-c", directory_ + "/mosquitto.conf"}, Log());
    if (!child.ok()) return child.status();
    process_ = *std::move(child);
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      auto log = ReadFile(Log());
      if (log.ok() && absl::StrContains(*log, " running")) return absl::OkStatus();
      if (!process_->Running()) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    auto log = ReadFile(Log());
    return absl::InternalError(
        absl::StrCat("mosquitto did not start: ", log.ok() ? *log : "(no log)"));
  }

  void Stop() { process_.reset(); }

  // SIGHUP: mosquitto re-reads its configuration, TLS files and crlfile included.
  [[nodiscard]] absl::Status Reload() {
    const auto reloads = [this] {
      auto log = ReadFile(Log());
      size_t count = 0;
      for (size_t at = 0; log.ok() && (at = log->find("Reloading config", at)) != std::string::npos;
           ++at) {
        ++count;
      }
      return count;
    };
    const size_t before = reloads();
    if (kill(process_->pid(), SIGHUP) != 0) return absl::InternalError("kill(SIGHUP) failed");
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (reloads() > before) return absl::OkStatus();
      absl::SleepFor(absl::Milliseconds(20));
    }
    return absl::DeadlineExceededError("mosquitto did not reload");
  }

  std::string Log() const { return absl::StrCat(directory_, "/mosquitto-", starts_, ".log"); }

  // mosquitto_pub as `device`: connects with its certificate and key, publishes with QoS 1 (exit 0
  // only once the broker acknowledged it).
  ProcessResult Publish(const DeviceFiles& device) const {
    auto result = testing::RunProcess(
        {"mosquitto_pub", "-h", "localhost", "-p", std::to_string(port_), "--cafile",
         directory_ + "/broker-ca.pem", "--cert", device.chain, "--key", device.key, "-t",
         "sensors/sto2", "-m", "{\"sto2\": 71}", "-q", "1", "-i", device.serial.substr(0, 16)},
        {}, absl::Seconds(30));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ProcessResult{};
  }

  // A TLS handshake as `device` that then waits for the broker to speak or close.
  ProcessResult TlsHandshake(const DeviceFiles& device) const {
    auto result =
        testing::RunProcess({"openssl", "s_client", "-connect", absl::StrCat("127.0.0.1:", port_),
                             "-cert", device.certificate, "-cert_chain", device.issuer, "-key",
                             device.key, "-CAfile", directory_ + "/broker-ca.pem", "-ign_eof"},
                            {}, absl::Seconds(30));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ProcessResult{};
  }

 private:
  std::string directory_;
  int port_;
  int starts_ = 0;
  std::unique_ptr<testing::ChildProcess> process_;
};

void ExpectOnlyTheRevokedDeviceIsRefused(const Broker& broker, const DeviceFiles& revoked,
                                         const DeviceFiles& bystander) {
  const auto log_size = [&] {
    auto log = ReadFile(broker.Log());
    return log.ok() ? log->size() : 0;
  };
  const size_t log_before = log_size();
  const ProcessResult refused = broker.Publish(revoked);
  EXPECT_NE(refused.exit_code, 0) << refused.out << refused.err;
  // The broker may write its log line after the client has already given up: wait for it.
  std::string since;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  do {
    auto log = ReadFile(broker.Log());
    ASSERT_TRUE(log.ok());
    since = log->substr(std::min(log_before, log->size()));
    if (since.find("certificate verify failed") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  EXPECT_THAT(since, HasSubstr("certificate verify failed"));
  EXPECT_THAT(since, ::testing::Not(HasSubstr("CONNACK")));
  // Why: mosquitto_pub only says the connection was lost; the TLS alert the broker sends (read by
  // openssl s_client, which waits for it with -ign_eof) names the reason.
  const ProcessResult alert = broker.TlsHandshake(revoked);
  EXPECT_THAT(alert.out + alert.err, HasSubstr("alert certificate revoked")) << alert.err;
  const ProcessResult accepted = broker.Publish(bystander);
  EXPECT_EQ(accepted.exit_code, 0) << accepted.out << accepted.err;
}

TEST(MosquittoCrlTest, TheBrokerRefusesADeviceOnceKeylinesCrlListsItsCertificate) {
  testing::KeylineEnvironment::Options options;
  // A new full CRL within about a second of a revocation (mosquitto knows no delta CRLs).
  options.status_yaml = "  crl_full_interval_seconds: 1\n";
  auto fleet = testing::Fleet::Create(options, "mosquitto-crl-se");
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  const std::string directory = (*fleet)->environment().directory() + "/broker";
  ASSERT_TRUE(MakeDirectories(directory).ok());
  auto sensor = testing::EnrollDeviceToFiles(**fleet, "sensor", directory);
  ASSERT_TRUE(sensor.ok()) << sensor.status();
  auto bystander = testing::EnrollDeviceToFiles(**fleet, "bystander", directory);
  ASSERT_TRUE(bystander.ok()) << bystander.status();

  // The broker's own certificate (localhost), from a throwaway CA: the broker's identity is not
  // Keyline's business, the devices' identities are.
  const auto self_made = [&](std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {"req", "-x509", "-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:P-256", "-nodes", "-days", "2"});
    auto made = testing::Openssl(directory, arguments);
    ASSERT_TRUE(made.ok()) << made.status();
    ASSERT_EQ(made->exit_code, 0) << made->err;
  };
  ASSERT_NO_FATAL_FAILURE(
      self_made({"-keyout", "broker-ca.key", "-out", "broker-ca.pem", "-subj", "/CN=Broker Test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign"}));
  ASSERT_NO_FATAL_FAILURE(self_made(
      {"-keyout", "broker.key", "-out", "broker.pem", "-subj", "/CN=localhost", "-CA",
       "broker-ca.pem", "-CAkey", "broker-ca.key", "-addext",
       "subjectAltName=DNS:localhost,IP:127.0.0.1", "-addext", "extendedKeyUsage=serverAuth"}));

  auto crl_urls =
      testing::CertificateExtensionUris(sensor->certificate, "X509v3 CRL Distribution Points");
  ASSERT_TRUE(crl_urls.ok()) << crl_urls.status();
  ASSERT_EQ(crl_urls->size(), 1u);
  // Downloads the deployment CA's CRL (DER) and gives it to mosquitto as PEM.
  const auto fetch_crl = [&]() -> absl::StatusOr<std::vector<std::string>> {
    auto reply = testing::HttpGet((*crl_urls)[0]);
    if (!reply.ok()) return reply.status();
    if (reply->status != 200) return absl::InternalError(absl::StrCat("HTTP ", reply->status));
    if (auto written = WriteFileAtomically(directory + "/crl.der", reply->body); !written.ok()) {
      return written;
    }
    auto converted = testing::Openssl(directory, {"crl", "-inform", "DER", "-in", "crl.der",
                                                  "-outform", "PEM", "-out", "crl.pem"});
    if (!converted.ok()) return converted.status();
    if (converted->exit_code != 0) return absl::InternalError(converted->err);
    return testing::CrlSerials(directory + "/crl.der");
  };
  auto listed = fetch_crl();
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_THAT(*listed, ::testing::Not(::testing::Contains(sensor->serial)));

  Broker broker(directory, testing::PickFreePort());
  ASSERT_TRUE(broker.Start(sensor->root).ok());
  const ProcessResult before = broker.Publish(*sensor);
  EXPECT_EQ(before.exit_code, 0) << before.out << before.err;
  EXPECT_EQ(broker.Publish(*bystander).exit_code, 0);
  auto log = ReadFile(broker.Log());
  ASSERT_TRUE(log.ok());
  // use_identity_as_username: the broker saw the device certificate (CN = device serial).
  EXPECT_THAT(*log, HasSubstr("u'sensor-0000'"));

  auto revoked = (*fleet)->environment().Keylinectl(
      {"revoke", "--serial", sensor->serial, "--reason", "keyCompromise"});
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  ASSERT_EQ(revoked->exit_code, 0) << revoked->err;
  const absl::Time revoked_at = absl::Now();
  do {
    listed = fetch_crl();
    ASSERT_TRUE(listed.ok()) << listed.status();
    if (std::count(listed->begin(), listed->end(), sensor->serial) > 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  } while (absl::Now() - revoked_at < absl::Seconds(30));
  ASSERT_THAT(*listed, ::testing::Contains(sensor->serial));
  std::cerr << "the full CRL listed the revocation after "
            << absl::ToDoubleMilliseconds(absl::Now() - revoked_at) << " ms\n";

  // A running broker takes the new CRL on SIGHUP (mosquitto >= 1.6); a broker started with it
  // refuses the device as well.
  ASSERT_TRUE(broker.Reload().ok());
  ExpectOnlyTheRevokedDeviceIsRefused(broker, *sensor, *bystander);
  broker.Stop();
  ASSERT_TRUE(broker.Start(sensor->root).ok());
  ExpectOnlyTheRevokedDeviceIsRefused(broker, *sensor, *bystander);
}

}  // namespace
}  // namespace keyline
