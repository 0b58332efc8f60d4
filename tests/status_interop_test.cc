// Keyline's status listener (OCSP responder, full and delta CRLs) against a real keyline-server
// (PostgreSQL, SoftHSM2), judged by tools Keyline did not write: `openssl ocsp`, `openssl verify`,
// gnutls `ocsptool`, python3-cryptography, curl. Issue 6: acceptance 1 (interop), 3 (bad input at
// the status listener; the revocation CLI's bad input is in revocation_cli_test) and the faults of
// peer responders named in 6 (a test each that Keyline has none of them).
//
// One Keyline for the suite and device certificates from real enrollments: `good` is never revoked;
// `revoked` is revoked (keyCompromise) before the first test, which waits until both OCSP and the
// full CRL say so; `delta-base` and `delta` are revoked by the delta CRL test only.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/files.h"
#include "tests/support/fleet.h"
#include "tests/support/relying_party.h"

namespace keyline {
namespace {

using testing::DeviceFiles;
using testing::Fleet;
using ::testing::HasSubstr;
using testing::HttpReply;
using ::testing::Not;
using testing::ProcessResult;

// A serial no Keyline issued: Keyline's serials are 16 octets with the top bits 01.
constexpr char kUnknownSerial[] = "0x0BADC0FFEE0000000000000000000001";
// OCSPResponses that carry only a responseStatus (RFC 6960 4.2.1).
constexpr std::string_view kMalformedRequest("\x30\x03\x0a\x01\x01", 5);
constexpr std::string_view kUnauthorized("\x30\x03\x0a\x01\x06", 5);
constexpr char kOcspResponseType[] = "application/ocsp-response";

struct Suite {
  Fleet* fleet = nullptr;
  std::string directory;  // the relying party's files
  DeviceFiles good;
  DeviceFiles revoked;
  DeviceFiles delta_base;
  DeviceFiles delta;
};

class StatusInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite_ = new Suite();
    testing::KeylineEnvironment::Options options;
    // A CA with new revocations gets a new full CRL after 10 s (not 5 min), and a delta CRL every
    // second as by default: the tests see both kinds change without waiting long.
    // At most 200 fresh OCSP signatures a second: far above what the tests' openssl processes ask
    // for, and a burst test can spend it.
    options.status_yaml =
        "  crl_full_interval_seconds: 10\n"
        "  ocsp_fresh_signatures_per_second: 200\n";
    auto fleet = Fleet::Create(options, "status-interop-se");
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    suite_->fleet = fleet->release();
    suite_->directory = Environment().directory() + "/relying-party";
    ASSERT_TRUE(MakeDirectories(suite_->directory).ok());
    for (auto [name, files] : {std::pair{"good", &suite_->good},
                               {"revoked", &suite_->revoked},
                               {"delta-base", &suite_->delta_base},
                               {"delta", &suite_->delta}}) {
      auto enrolled = testing::EnrollDeviceToFiles(*suite_->fleet, name, suite_->directory);
      ASSERT_TRUE(enrolled.ok()) << enrolled.status();
      *files = *enrolled;
    }
    Revoke(Revoked(), "keyCompromise");
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (
        !absl::StrContains(Ocsp({"-issuer", Good().issuer, "-cert", Revoked().certificate}, false),
                           ": revoked") &&
        absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_TRUE(
        WaitForCrl(Revoked().certificate, Revoked().serial, absl::Seconds(30), "full.crl").ok());
  }

  static void TearDownTestSuite() {
    if (suite_ != nullptr) delete suite_->fleet;
    delete suite_;
    suite_ = nullptr;
  }

  static testing::KeylineEnvironment& Environment() { return suite_->fleet->environment(); }
  static const DeviceFiles& Good() { return suite_->good; }
  static const DeviceFiles& Revoked() { return suite_->revoked; }
  static std::string Path(const std::string& name) { return suite_->directory + "/" + name; }
  static std::string OcspUrl() { return Environment().status_url() + "/ocsp"; }

  static void Revoke(const DeviceFiles& device, const std::string& reason) {
    auto result =
        Environment().Keylinectl({"revoke", "--serial", device.serial, "--reason", reason});
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(result->exit_code, 0) << result->err;
  }

  static ProcessResult Run(const std::vector<std::string>& argv) {
    auto result = testing::RunProcess(argv, {}, absl::Seconds(60));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ProcessResult{};
  }

  static ProcessResult OpensslRun(const std::vector<std::string>& arguments) {
    auto result = testing::Openssl(suite_->directory, arguments);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ProcessResult{};
  }

  // `openssl ocsp` asking Keyline, verifying the response against Keyline's root; stdout and stderr
  // together ("Response verify OK" goes to stderr).
  static std::string Ocsp(const std::vector<std::string>& arguments, bool nonce = true) {
    std::vector<std::string> argv = {"ocsp",      "-url",     OcspUrl(), "-CAfile",
                                     Good().root, "-timeout", "10",      "-resp_text"};
    if (!nonce) argv.push_back("-no_nonce");
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    const ProcessResult result = OpensslRun(argv);
    return result.out + result.err;
  }

  // The DER request `openssl ocsp` would send (it sends nothing: no -url).
  static std::string OcspRequest(const std::vector<std::string>& arguments) {
    static int counter = 0;
    const std::string file = Path(absl::StrCat("request-", ++counter, ".der"));
    std::vector<std::string> argv = {"ocsp", "-reqout", file};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    const ProcessResult result = OpensslRun(argv);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    auto der = ReadFile(file);
    EXPECT_TRUE(der.ok()) << der.status();
    return der.ok() ? *der : "";
  }

  // Downloads the CRL named by the CDP of `certificate` into Path(file) until it lists `serial`.
  [[nodiscard]] static absl::Status WaitForCrl(const std::string& certificate,
                                               const std::string& serial, absl::Duration timeout,
                                               const std::string& file) {
    auto urls = testing::CertificateExtensionUris(certificate, "X509v3 CRL Distribution Points");
    if (!urls.ok()) return urls.status();
    if (urls->size() != 1) return absl::InternalError("not one CRL distribution point");
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      if (auto fetched = Download((*urls)[0], file); !fetched.ok()) return fetched;
      auto serials = testing::CrlSerials(Path(file));
      if (!serials.ok()) return serials.status();
      if (std::find(serials->begin(), serials->end(), serial) != serials->end()) {
        return absl::OkStatus();
      }
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(file, " never listed ", serial));
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  [[nodiscard]] static absl::Status Download(const std::string& url, const std::string& file) {
    auto reply = testing::HttpGet(url);
    if (!reply.ok()) return reply.status();
    if (reply->status != 200 || reply->content_type != "application/pkix-crl") {
      return absl::InternalError(
          absl::StrCat(url, ": HTTP ", reply->status, " ", reply->content_type));
    }
    return WriteFileAtomically(Path(file), reply->body);
  }

  static int64_t Count(const std::string& sql) { return suite_->fleet->Count(sql); }

  // The revocation time PostgreSQL holds, in whole seconds (what OCSP and CRLs carry).
  static absl::Time RevokedAt(const DeviceFiles& device) {
    return absl::FromUnixSeconds(
        Count(absl::StrCat("SELECT floor(extract(epoch FROM revoked_at))::bigint FROM "
                           "certificates WHERE serial = decode('",
                           device.serial, "', 'hex')")));
  }

  // What a rejected request must leave as it was: no certificate row changed, and the answers for
  // the good and the revoked device, pre-signed and freshly signed.
  struct Snapshot {
    int64_t certificates = 0;
    int64_t revoked = 0;
  };
  static Snapshot Take() {
    return {Count("SELECT count(*) FROM certificates"),
            Count("SELECT count(*) FROM certificates WHERE status = 'revoked'")};
  }
  static void ExpectNothingChanged(const Snapshot& before) {
    const Snapshot after = Take();
    EXPECT_EQ(after.certificates, before.certificates);
    EXPECT_EQ(after.revoked, before.revoked);
    for (const bool nonce : {false, true}) {
      const std::string good = Ocsp({"-issuer", Good().issuer, "-cert", Good().certificate}, nonce);
      EXPECT_THAT(good, HasSubstr("Response verify OK"));
      EXPECT_THAT(good, HasSubstr(Good().certificate + ": good"));
      const std::string revoked =
          Ocsp({"-issuer", Good().issuer, "-cert", Revoked().certificate}, nonce);
      EXPECT_THAT(revoked, HasSubstr("Response verify OK"));
      EXPECT_THAT(revoked, HasSubstr(Revoked().certificate + ": revoked"));
    }
  }

  static void ExpectMalformedRequest(const absl::StatusOr<HttpReply>& reply,
                                     const std::string& what) {
    ASSERT_TRUE(reply.ok()) << what << ": " << reply.status();
    EXPECT_EQ(reply->status, 200) << what;
    EXPECT_EQ(reply->content_type, kOcspResponseType) << what;
    EXPECT_EQ(reply->body, kMalformedRequest)
        << what << ": " << absl::BytesToHexString(reply->body);
  }

  static Suite* suite_;
};

Suite* StatusInteropTest::suite_ = nullptr;

// "Revocation Time: Mar  3 03:50:13 2026 GMT" as openssl prints it.
absl::Time OpensslRevocationTime(const std::string& text) {
  std::smatch match;
  if (!std::regex_search(text, match,
                         std::regex("Revocation Time: ([A-Z][a-z]{2}) +([0-9]+) "
                                    "([0-9:]{8}) ([0-9]{4}) GMT"))) {
    return absl::InfinitePast();
  }
  absl::Time time;
  std::string error;
  if (!absl::ParseTime("%b %d %H:%M:%S %Y",
                       absl::StrCat(match[1].str(), " ", match[2].str(), " ", match[3].str(), " ",
                                    match[4].str()),
                       absl::UTCTimeZone(), &time, &error)) {
    return absl::InfinitePast();
  }
  return time;
}

// The same SEQUENCE in BER with an indefinite length: 30 80 <contents> 00 00.
std::string IndefiniteLength(const std::string& der) {
  const size_t length_octets =
      (static_cast<uint8_t>(der[1]) & 0x80) != 0 ? 1 + (static_cast<uint8_t>(der[1]) & 0x7f) : 1;
  return absl::StrCat("\x30\x80", der.substr(1 + length_octets), std::string(2, '\0'));
}

// ---- Acceptance 1: interop ----------------------------------------------------------------------

TEST_F(StatusInteropTest, OpensslOcspGetsGoodRevokedAndUnknownAndVerifiesEachResponse) {
  for (const bool nonce : {true, false}) {
    SCOPED_TRACE(nonce ? "with a nonce (freshly signed)" : "-no_nonce (pre-signed)");
    const std::string good = Ocsp({"-issuer", Good().issuer, "-cert", Good().certificate}, nonce);
    EXPECT_THAT(good, HasSubstr("Response verify OK"));
    EXPECT_THAT(good, HasSubstr(Good().certificate + ": good"));
    EXPECT_THAT(good, Not(HasSubstr("WARNING")));  // e.g. "no nonce in response"
    EXPECT_THAT(good, Not(HasSubstr("Nonce Verify error")));
    if (nonce) {
      EXPECT_THAT(good, HasSubstr("OCSP Nonce"));
    } else {
      EXPECT_THAT(good, Not(HasSubstr("OCSP Nonce")));
    }

    const std::string revoked =
        Ocsp({"-issuer", Good().issuer, "-cert", Revoked().certificate}, nonce);
    EXPECT_THAT(revoked, HasSubstr("Response verify OK"));
    EXPECT_THAT(revoked, HasSubstr(Revoked().certificate + ": revoked"));
    EXPECT_THAT(revoked, HasSubstr("Reason: keyCompromise"));
    EXPECT_EQ(OpensslRevocationTime(revoked), RevokedAt(Revoked())) << revoked;

    const std::string unknown = Ocsp({"-issuer", Good().issuer, "-serial", kUnknownSerial}, nonce);
    EXPECT_THAT(unknown, HasSubstr("Response verify OK"));
    EXPECT_THAT(unknown, HasSubstr(absl::StrCat(kUnknownSerial, ": unknown")));
  }
}

// A relying party that checks the whole chain by OCSP (nginx's `ssl_ocsp on`) asks the root's
// responder about the deployment CA too: the CA certificates Keyline issued are `good`, not
// `unknown`, though they live outside the certificates table.
TEST_F(StatusInteropTest, OpensslOcspGetsGoodForTheDeploymentCaFromTheRootsResponder) {
  for (const bool nonce : {true, false}) {
    SCOPED_TRACE(nonce ? "with a nonce (freshly signed)" : "-no_nonce (pre-signed)");
    const std::string answer = Ocsp({"-issuer", Good().root, "-cert", Good().issuer}, nonce);
    EXPECT_THAT(answer, HasSubstr("Response verify OK"));
    EXPECT_THAT(answer, HasSubstr(Good().issuer + ": good"));
  }
}

TEST_F(StatusInteropTest, GnutlsOcsptoolAgreesOnGoodAndRevoked) {
  for (const auto& [device, expected] : {std::pair{&Good(), "Certificate Status: good"},
                                         {&Revoked(), "Certificate Status: revoked"}}) {
    for (const bool trust_the_issuer : {false, true}) {
      // --ask takes the responder URL (without one, ocsptool uses the certificate's AIA). Without
      // --load-trust, ocsptool verifies against the issuer (a delegated signer must be issued by
      // it, for OCSP signing); with it, the signer must chain to the trusted certificates.
      std::vector<std::string> argv = {"ocsptool",     "--ask=" + OcspUrl(), "--load-issuer",
                                       device->issuer, "--load-cert",        device->certificate};
      if (trust_the_issuer) argv.insert(argv.end(), {"--load-trust", device->issuer});
      const ProcessResult result = Run(argv);
      const std::string text = result.out + result.err;
      EXPECT_EQ(result.exit_code, 0) << text;
      EXPECT_THAT(text, HasSubstr("Verifying OCSP Response: Success.")) << text;
      EXPECT_THAT(text, HasSubstr(expected)) << text;
    }
  }
}

TEST_F(StatusInteropTest, PythonCryptographyVerifiesOcspResponsesAndCrls) {
  for (const auto& [device, expected] :
       {std::pair{&Good(), "ocsp good\ncrl good\n"},
        {&Revoked(), "ocsp revoked key_compromise\ncrl revoked key_compromise\n"}}) {
    // Debian's python3 with python3-cryptography, not whatever python3 comes first on PATH.
    const ProcessResult result = Run(
        {"/usr/bin/python3", testing::SourceDir() + "/tests/interop/check_certificate_status.py",
         device->certificate, device->issuer});
    EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_EQ(result.out, expected) << result.err;
  }
}

TEST_F(StatusInteropTest, OpensslVerifyWithTheFullCrlsRejectsTheRevokedAndAcceptsTheGood) {
  // -crl_check_all wants a CRL for every certificate of the chain, the root included: the
  // deployment CA's (from the device certificate's CDP) and the root's (from the deployment CA
  // certificate's CDP).
  auto root_crl =
      testing::CertificateExtensionUris(Good().issuer, "X509v3 CRL Distribution Points");
  ASSERT_TRUE(root_crl.ok()) << root_crl.status();
  ASSERT_EQ(root_crl->size(), 1u);
  ASSERT_TRUE(Download((*root_crl)[0], "root.crl").ok());
  ASSERT_TRUE(WaitForCrl(Good().certificate, Revoked().serial, absl::Seconds(30), "full.crl").ok());

  const auto verify = [&](const DeviceFiles& device) {
    return OpensslRun({"verify", "-crl_check_all", "-CAfile", device.root, "-untrusted",
                       device.issuer, "-CRLfile", Path("full.crl"), "-CRLfile", Path("root.crl"),
                       device.certificate});
  };
  const ProcessResult good = verify(Good());
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_THAT(good.out, HasSubstr(Good().certificate + ": OK"));

  const ProcessResult revoked = verify(Revoked());
  EXPECT_NE(revoked.exit_code, 0);
  EXPECT_THAT(revoked.out + revoked.err, HasSubstr("certificate revoked"));

  // Without the root's CRL openssl cannot check the deployment CA: the root CRL is needed.
  const ProcessResult no_root_crl =
      OpensslRun({"verify", "-crl_check_all", "-CAfile", Good().root, "-untrusted", Good().issuer,
                  "-CRLfile", Path("full.crl"), Good().certificate});
  EXPECT_NE(no_root_crl.exit_code, 0);
  EXPECT_THAT(no_root_crl.out + no_root_crl.err, HasSubstr("unable to get certificate CRL"));
}

TEST_F(StatusInteropTest, TheDeltaIssuedWithAFullCrlSharesItsNumberAndItsRevocations) {
  // RFC 5280 5.2.3: a full and a delta CRL issued at the same time have the same number and give
  // the same revocation information (the delta's base is the full CRL before).
  auto paired = testing::EnrollDeviceToFiles(*suite_->fleet, "paired", suite_->directory);
  ASSERT_TRUE(paired.ok()) << paired.status();
  Revoke(*paired, "superseded");
  // The full CRL that lists it comes up to crl_full_interval (10 s) later, with its delta.
  ASSERT_TRUE(
      WaitForCrl(paired->certificate, paired->serial, absl::Seconds(30), "paired-full.crl").ok());
  auto full = testing::ReadCrlFacts(Path("paired-full.crl"));
  ASSERT_TRUE(full.ok()) << full.status();
  auto delta_url = testing::CrlExtensionUris(Path("paired-full.crl"), "X509v3 Freshest CRL");
  ASSERT_TRUE(delta_url.ok() && delta_url->size() == 1u);
  // The delta is signed right after the full CRL: it may not be out yet.
  absl::StatusOr<testing::CrlFacts> delta;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    ASSERT_TRUE(Download((*delta_url)[0], "paired-delta.crl").ok());
    delta = testing::ReadCrlFacts(Path("paired-delta.crl"));
    ASSERT_TRUE(delta.ok()) << delta.status();
  } while (delta->crl_number < full->crl_number && absl::Now() < deadline &&
           (absl::SleepFor(absl::Milliseconds(50)), true));
  EXPECT_EQ(delta->crl_number, full->crl_number);
  EXPECT_GT(delta->base_crl_number, 0);
  EXPECT_LT(delta->base_crl_number, full->crl_number);
  EXPECT_EQ(delta->last_update, full->last_update);
  auto in_delta = testing::CrlSerials(Path("paired-delta.crl"));
  ASSERT_TRUE(in_delta.ok()) << in_delta.status();
  EXPECT_EQ(std::count(in_delta->begin(), in_delta->end(), paired->serial), 1)
      << "revoked since the delta's base: the delta must list it as the full CRL does";
}

TEST_F(StatusInteropTest, OpensslVerifyWithFullAndDeltaCrlsRejectsARevocationNewerThanTheFull) {
  auto root_crl =
      testing::CertificateExtensionUris(Good().issuer, "X509v3 CRL Distribution Points");
  ASSERT_TRUE(root_crl.ok()) << root_crl.status();
  ASSERT_EQ(root_crl->size(), 1u);
  ASSERT_TRUE(Download((*root_crl)[0], "root.crl").ok());

  // A full CRL was just built when it lists `delta-base`; the next one comes no sooner than
  // crl_full_interval (10 s) later, so `delta`, revoked now, is for a while only in the delta CRL.
  const DeviceFiles& base = suite_->delta_base;
  const DeviceFiles& late = suite_->delta;
  Revoke(base, "superseded");
  ASSERT_TRUE(WaitForCrl(base.certificate, base.serial, absl::Seconds(30), "base.crl").ok());
  Revoke(late, "affiliationChanged");
  // The full CRL, then the delta CRL its Freshest CRL extension names, until the delta lists it.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  bool only_in_delta = false;
  while (!only_in_delta && absl::Now() < deadline) {
    ASSERT_TRUE(WaitForCrl(late.certificate, base.serial, absl::Seconds(5), "base.crl").ok());
    auto delta_url = testing::CrlExtensionUris(Path("base.crl"), "X509v3 Freshest CRL");
    ASSERT_TRUE(delta_url.ok()) << delta_url.status();
    ASSERT_EQ(delta_url->size(), 1u);
    ASSERT_TRUE(Download((*delta_url)[0], "delta.crl").ok());
    auto in_full = testing::CrlSerials(Path("base.crl"));
    auto in_delta = testing::CrlSerials(Path("delta.crl"));
    ASSERT_TRUE(in_full.ok() && in_delta.ok());
    ASSERT_EQ(std::count(in_full->begin(), in_full->end(), late.serial), 0)
        << "a full CRL came too early for this test";
    only_in_delta = std::count(in_delta->begin(), in_delta->end(), late.serial) == 1;
    if (!only_in_delta) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(only_in_delta) << "no delta CRL listed " << late.serial;

  const auto verify = [&](const DeviceFiles& device, bool with_delta) {
    std::vector<std::string> argv = {"verify",     "-crl_check_all", "-CAfile",  device.root,
                                     "-untrusted", device.issuer,    "-CRLfile", Path("base.crl"),
                                     "-CRLfile",   Path("root.crl")};
    // -use_deltas needs -extended_crl in OpenSSL 3.0: without it get_crl_score() does not set
    // delta CRLs aside (its "don't process deltas" test sits in an else-if of the extended-CRL
    // branch), so the newest CRL, the delta, is taken as the base and the full CRL's entries are
    // never looked at: a certificate revoked before the last full CRL would pass.
    if (with_delta) {
      argv.insert(argv.end(), {"-extended_crl", "-use_deltas", "-CRLfile", Path("delta.crl")});
    }
    argv.push_back(device.certificate);
    return OpensslRun(argv);
  };
  const ProcessResult good = verify(Good(), true);
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_THAT(good.out, HasSubstr(Good().certificate + ": OK"));
  const ProcessResult revoked = verify(late, true);
  EXPECT_NE(revoked.exit_code, 0);
  EXPECT_THAT(revoked.out + revoked.err, HasSubstr("certificate revoked"));
  const ProcessResult in_full = verify(base, true);
  EXPECT_NE(in_full.exit_code, 0);
  EXPECT_THAT(in_full.out + in_full.err, HasSubstr("certificate revoked"));
  // The full CRL alone does not know yet: the delta CRL is what rejects it.
  const ProcessResult full_only = verify(late, false);
  EXPECT_EQ(full_only.exit_code, 0) << full_only.out << full_only.err;
}

// ---- Acceptance 3: bad input at the status listener, and nothing changes -----------------------

TEST_F(StatusInteropTest, MalformedOcspDerGetsMalformedRequest) {
  const Snapshot before = Take();
  const std::string request = OcspRequest({"-issuer", Good().issuer, "-cert", Good().certificate});
  ASSERT_GT(request.size(), 20u);
  const struct {
    std::string what;
    std::string body;
  } cases[] = {
      {"text", "this is not an OCSP request"},
      {"empty body", ""},
      {"truncated", request.substr(0, request.size() - 1)},
      {"trailing byte", request + std::string(1, '\0')},
      {"wrong outer tag", "\x31" + request.substr(1)},
      {"BER indefinite length", IndefiniteLength(request)},
  };
  for (const auto& [what, body] : cases) {
    ExpectMalformedRequest(testing::HttpPost(OcspUrl(), body), what);
  }
  // openssl reads the answer the same way.
  const auto reply = testing::HttpPost(OcspUrl(), "garbage");
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(WriteFileAtomically(Path("malformed.der"), reply->body).ok());
  const ProcessResult parsed = OpensslRun({"ocsp", "-respin", Path("malformed.der"), "-resp_text"});
  EXPECT_THAT(parsed.out + parsed.err, HasSubstr("malformedrequest (1)"));
  ExpectNothingChanged(before);
}

// Caching headers a shared cache (a CDN, a proxy) acts on. A CRL's nextUpdate is a day away, but
// a newer one of its kind may be out within crl_delta_interval (1 s) or crl_full_interval (10 s
// here): caches keep each no longer than that. Answers that must not be kept, and the service
// endpoints, say no-store.
TEST_F(StatusInteropTest, CachesKeepCrlsOnlyUntilANewerOneMayBeOutAndNeverKeepErrors) {
  const auto max_age = [](const testing::HttpReply& reply) {
    const std::string& control = reply.headers.count("cache-control") != 0
                                     ? reply.headers.at("cache-control")
                                     : std::string();
    int seconds = -1;
    const size_t at = control.find("max-age=");
    if (at == std::string::npos ||
        !absl::SimpleAtoi(control.substr(at + 8, control.find(',', at) - at - 8), &seconds)) {
      ADD_FAILURE() << "no max-age in \"" << control << "\"";
    }
    return seconds;
  };
  for (const auto& [file, longest] :
       {std::pair{"deployment-default.crl", 10}, std::pair{"deployment-default-delta.crl", 1}}) {
    const auto reply = testing::HttpGet(Environment().status_url() + "/crl/" + file);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_EQ(reply->status, 200) << file;
    const int seconds = max_age(*reply);
    EXPECT_GE(seconds, 0) << file;
    EXPECT_LE(seconds, longest) << file;
    ASSERT_EQ(reply->headers.count("expires"), 1u) << file;
    absl::Time expires;
    std::string error;
    ASSERT_TRUE(absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", reply->headers.at("expires"),
                                absl::UTCTimeZone(), &expires, &error))
        << error;
    EXPECT_LE(expires, absl::Now() + absl::Seconds(longest + 1)) << file;
  }

  // A cacheable OCSP answer keeps its RFC 5019 headers.
  const std::string request =
      OcspRequest({"-issuer", Good().issuer, "-cert", Good().certificate, "-no_nonce"});
  const auto cacheable = testing::HttpGet(
      OcspUrl() + "/" +
      absl::StrReplaceAll(absl::Base64Escape(request), {{"+", "%2B"}, {"/", "%2F"}, {"=", "%3D"}}));
  ASSERT_TRUE(cacheable.ok()) << cacheable.status();
  EXPECT_GT(max_age(*cacheable), 60);
  EXPECT_THAT(cacheable->headers.at("cache-control"), HasSubstr("public"));
  // Revalidation goes by ETag: an OCSP answer's Last-Modified (a backdated thisUpdate) can stay
  // the same while the answer turns `revoked`, so If-Modified-Since, even a day ahead, gets the
  // answer again.
  const std::string get_url =
      OcspUrl() + "/" +
      absl::StrReplaceAll(absl::Base64Escape(request), {{"+", "%2B"}, {"/", "%2F"}, {"=", "%3D"}});
  const auto http_code = [&](const std::string& header) {
    return Run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", header, get_url}).out;
  };
  EXPECT_EQ(http_code("If-None-Match: " + cacheable->headers.at("etag")), "304");
  EXPECT_EQ(http_code("If-Modified-Since: " + absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                                               absl::Now() + absl::Hours(24),
                                                               absl::UTCTimeZone())),
            "200");

  // An answer to a nonce, an error answer and the service endpoints: no-store.
  const std::string with_nonce =
      OcspRequest({"-issuer", Good().issuer, "-cert", Good().certificate});
  for (const auto& [what, reply] :
       {std::pair{"nonce", testing::HttpPost(OcspUrl(), with_nonce)},
        std::pair{"malformedRequest", testing::HttpPost(OcspUrl(), "garbage")},
        std::pair{"healthz", testing::HttpGet(Environment().status_url() + "/healthz")},
        std::pair{"readyz", testing::HttpGet(Environment().status_url() + "/readyz")},
        std::pair{"metrics", testing::HttpGet(Environment().status_url() + "/metrics")}}) {
    ASSERT_TRUE(reply.ok()) << what << ": " << reply.status();
    EXPECT_EQ(reply->status, 200) << what;
    EXPECT_EQ(reply->headers.count("cache-control") == 0 ? std::string()
                                                         : reply->headers.at("cache-control"),
              "no-store")
        << what;
    EXPECT_EQ(reply->headers.count("expires"), 0u) << what;
  }
}

TEST_F(StatusInteropTest, NoncesOverTheFreshSignatureBudgetGetThePresignedAnswer) {
  // The DER of id-pkix-ocsp-nonce: in a response, only as the echoed nonce's extension.
  constexpr std::string_view kNonceOid("\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x02", 11);
  const std::string request = OcspRequest({"-issuer", Good().issuer, "-cert", Good().certificate});
  ASSERT_TRUE(WriteFileAtomically(Path("burst-request.der"), request).ok());
  const auto metric = [] {
    const auto reply = testing::HttpGet(Environment().status_url() + "/metrics");
    EXPECT_TRUE(reply.ok()) << reply.status();
    const std::string prefix =
        "keyline_ocsp_fresh_signature_budget_spent_total{answer=\"nonce_ignored\"} ";
    int64_t value = -1;
    const size_t at = reply.ok() ? reply->body.find(prefix) : std::string::npos;
    if (at == std::string::npos ||
        !absl::SimpleAtoi(
            reply->body.substr(at + prefix.size(), reply->body.find('\n', at) - at - prefix.size()),
            &value)) {
      ADD_FAILURE() << "no nonce_ignored counter in /metrics";
    }
    return value;
  };
  const int64_t ignored_before = metric();

  // One client sending nonces as fast as it can, over one kept-alive connection (the same
  // request each time: the server cannot tell). curl writes the answers one after the other.
  constexpr int kRequests = 1000;
  std::vector<std::string> argv = {"curl",
                                   "-sS",
                                   "--fail",
                                   "-H",
                                   "Content-Type: application/ocsp-request",
                                   "--data-binary",
                                   "@" + Path("burst-request.der")};
  for (int i = 0; i < kRequests; ++i) argv.push_back(OcspUrl());
  const absl::Time start = absl::Now();
  const ProcessResult burst = Run(argv);
  ASSERT_EQ(burst.exit_code, 0) << burst.err;
  int echoed = 0;
  int ignored = 0;
  std::string ignored_answer;
  std::string_view answers = burst.out;
  while (!answers.empty()) {
    // Each answer is one DER SEQUENCE with a two-octet length (a signed response is 256 to 65535
    // octets long).
    ASSERT_GE(answers.size(), 4u);
    ASSERT_EQ(answers.substr(0, 2), std::string_view("\x30\x82", 2));
    const size_t length =
        4 + (static_cast<unsigned char>(answers[2]) << 8) + static_cast<unsigned char>(answers[3]);
    ASSERT_LE(length, answers.size());
    const std::string_view answer = answers.substr(0, length);
    answers.remove_prefix(length);
    if (answer.find(kNonceOid) != std::string_view::npos) {
      ++echoed;
    } else {
      ++ignored;
      ignored_answer = std::string(answer);
    }
  }
  EXPECT_EQ(echoed + ignored, kRequests);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  EXPECT_GE(echoed, 200) << "the first second's worth is signed fresh";
  EXPECT_LE(echoed, 200 + static_cast<int>(200 * seconds) + 1) << "in " << seconds << " s";
  ASSERT_GT(ignored, 0);
  EXPECT_EQ(metric() - ignored_before, ignored);

  // The answer without the nonce is the pre-signed one: valid, signed, and openssl says what it
  // lacks.
  ASSERT_TRUE(WriteFileAtomically(Path("burst-response.der"), ignored_answer).ok());
  const ProcessResult checked = OpensslRun({"ocsp", "-reqin", Path("burst-request.der"), "-respin",
                                            Path("burst-response.der"), "-issuer", Good().issuer,
                                            "-CAfile", Good().root, "-resp_text"});
  const std::string text = checked.out + checked.err;
  EXPECT_THAT(text, HasSubstr("Response verify OK"));
  EXPECT_THAT(text, HasSubstr("WARNING: no nonce in response"));
  EXPECT_THAT(text, HasSubstr("Cert Status: good"));

  // The budget refills: a second later nonces are echoed again.
  absl::SleepFor(absl::Milliseconds(1100));
  const auto later = testing::HttpPost(OcspUrl(), request);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_NE(later->body.find(kNonceOid), std::string::npos);
  EXPECT_THAT(Ocsp({"-issuer", Good().issuer, "-cert", Good().certificate}),
              Not(HasSubstr("WARNING")));
}

TEST_F(StatusInteropTest, ARequestBodyOver64KiBGets413) {
  const Snapshot before = Take();
  const std::string request = OcspRequest({"-issuer", Good().issuer, "-cert", Good().certificate});
  const auto over =
      testing::HttpPost(OcspUrl(), request + std::string(64 * 1024 + 1 - request.size(), '\0'));
  ASSERT_TRUE(over.ok()) << over.status();
  EXPECT_EQ(over->status, 413);
  // At the limit the body is read and parsed (and is not DER: trailing bytes).
  ExpectMalformedRequest(
      testing::HttpPost(OcspUrl(), request + std::string(64 * 1024 - request.size(), '\0')),
      "64 KiB");
  ExpectNothingChanged(before);
}

TEST_F(StatusInteropTest, AGetPathThatIsNotBase64GetsMalformedRequest) {
  const Snapshot before = Take();
  // server/status_routes.cc: an undecodable path is answered like an empty request.
  for (const std::string path :
       {"not-base64!", "%zz", "MEMwQTA_MD0wOzAJBgUrDgMCGgUABB", "MEMw%20QTA", "dGVzdA=x"}) {
    ExpectMalformedRequest(testing::HttpGet(OcspUrl() + "/" + path), path);
  }
  ExpectNothingChanged(before);
}

TEST_F(StatusInteropTest, ACertIdWithAnUnknownHashAlgorithmIsNotAnswered) {
  const Snapshot before = Take();
  // ocsp/ocsp_request.h: a hash other than SHA-1 or SHA-256 gets `unauthorized` (RFC 6960 2.3). A
  // SHA-1 CertID whose algorithm OID is patched to 1.3.6.1.4.1 (same length, still DER).
  std::string request =
      OcspRequest({"-issuer", Good().issuer, "-cert", Good().certificate, "-no_nonce"});
  const std::string sha1_oid("\x06\x05\x2b\x0e\x03\x02\x1a", 7);
  const size_t at = request.find(sha1_oid);
  ASSERT_NE(at, std::string::npos);
  request.replace(at, sha1_oid.size(), std::string("\x06\x05\x2b\x06\x01\x04\x01", 7));
  const auto posted = testing::HttpPost(OcspUrl(), request);
  ASSERT_TRUE(posted.ok()) << posted.status();
  EXPECT_EQ(posted->status, 200);
  EXPECT_EQ(posted->body, kUnauthorized) << absl::BytesToHexString(posted->body);
  const auto got = testing::HttpGet(
      OcspUrl() + "/" +
      absl::StrReplaceAll(absl::Base64Escape(request), {{"+", "%2B"}, {"/", "%2F"}, {"=", "%3D"}}));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body, kUnauthorized) << absl::BytesToHexString(got->body);

  // A real algorithm Keyline does not use: SHA-512 CertIDs are refused; SHA-256 ones answered.
  const std::string sha512 =
      Ocsp({"-sha512", "-issuer", Good().issuer, "-cert", Good().certificate});
  EXPECT_THAT(sha512, HasSubstr("Responder Error: unauthorized (6)"));
  EXPECT_THAT(sha512, Not(HasSubstr(": good")));
  const std::string sha256 =
      Ocsp({"-sha256", "-issuer", Good().issuer, "-cert", Good().certificate});
  EXPECT_THAT(sha256, HasSubstr(Good().certificate + ": good"));
  ExpectNothingChanged(before);
}

TEST_F(StatusInteropTest, AnIssuerKeylineDoesNotServeIsUnauthorized) {
  const Snapshot before = Take();
  // A foreign CA, and an impostor with the deployment CA's exact name but its own key; each asked
  // about the serial of Keyline's good device (cfssl answers by serial alone: `good`).
  const ProcessResult subject =
      OpensslRun({"x509", "-in", Good().issuer, "-noout", "-subject", "-nameopt", "compat"});
  ASSERT_EQ(subject.exit_code, 0) << subject.err;
  const std::string impostor_name =
      std::string(absl::StripSuffix(absl::StripPrefix(subject.out, "subject="), "\n"));
  for (const auto& [file, name] : {std::pair<std::string, std::string>{"foreign", "/CN=Foreign CA"},
                                   {"impostor", impostor_name}}) {
    const ProcessResult made =
        OpensslRun({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", Path(file + ".key"), "-out", Path(file + ".pem"), "-subj",
                    name, "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  // The impostor's CertID has our issuerNameHash, so only the key hash tells it apart.
  const ProcessResult ours =
      OpensslRun({"ocsp", "-issuer", Good().issuer, "-serial", "0x" + Good().serial, "-req_text"});
  const ProcessResult theirs = OpensslRun(
      {"ocsp", "-issuer", Path("impostor.pem"), "-serial", "0x" + Good().serial, "-req_text"});
  std::smatch our_hash, their_hash;
  const std::regex name_hash("Issuer Name Hash: ([0-9A-F]+)");
  ASSERT_TRUE(std::regex_search(ours.out, our_hash, name_hash)) << ours.out;
  ASSERT_TRUE(std::regex_search(theirs.out, their_hash, name_hash)) << theirs.out;
  ASSERT_EQ(our_hash[1].str(), their_hash[1].str());

  const std::string good_serial = "0x" + Good().serial;
  for (const bool nonce : {true, false}) {
    for (const std::string issuer : {"foreign.pem", "impostor.pem"}) {
      const std::string answer = Ocsp({"-issuer", Path(issuer), "-serial", good_serial}, nonce);
      EXPECT_THAT(answer, HasSubstr("Responder Error: unauthorized (6)")) << issuer;
      EXPECT_THAT(answer, Not(HasSubstr(": good"))) << issuer;
    }
    // One foreign CertID among ours: the whole request is refused (all CertIDs must be ours).
    const std::string mixed = Ocsp({"-issuer", Good().issuer, "-cert", Good().certificate,
                                    "-issuer", Path("foreign.pem"), "-serial", good_serial},
                                   nonce);
    EXPECT_THAT(mixed, HasSubstr("Responder Error: unauthorized (6)"));
  }
  ExpectNothingChanged(before);
}

// ---- Acceptance 6: the faults cfssl and openssl have, Keyline has not ---------------------------

TEST_F(StatusInteropTest, AGetWhoseBase64HoldsSlashAndPlusIsAnswered) {
  // Requests with fresh nonces until one's base64 holds both '/' and '+' (cfssl answers 400).
  std::string request;
  std::string encoded;
  for (int attempt = 0; attempt < 500; ++attempt) {
    request = OcspRequest({"-issuer", Good().issuer, "-cert", Good().certificate});
    encoded = absl::Base64Escape(request);
    if (absl::StrContains(encoded, "/") && absl::StrContains(encoded, "+")) break;
  }
  ASSERT_TRUE(absl::StrContains(encoded, "/") && absl::StrContains(encoded, "+")) << encoded;
  ASSERT_TRUE(WriteFileAtomically(Path("slash-plus-request.der"), request).ok());
  const std::string escaped =
      absl::StrReplaceAll(encoded, {{"+", "%2B"}, {"/", "%2F"}, {"=", "%3D"}});
  // As clients send it: raw (the base64 '/' then looks like a path separator), and escaped.
  for (const std::string& path : {encoded, escaped}) {
    SCOPED_TRACE(path);
    const auto reply = testing::HttpGet(OcspUrl() + "/" + path);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->content_type, kOcspResponseType);
    ASSERT_TRUE(WriteFileAtomically(Path("slash-plus-response.der"), reply->body).ok());
    // openssl checks the signature and that the response echoes this request's nonce.
    const ProcessResult checked = OpensslRun({"ocsp", "-reqin", Path("slash-plus-request.der"),
                                              "-respin", Path("slash-plus-response.der"), "-issuer",
                                              Good().issuer, "-CAfile", Good().root, "-resp_text"});
    const std::string text = checked.out + checked.err;
    EXPECT_THAT(text, HasSubstr("Response verify OK"));
    EXPECT_THAT(text, Not(HasSubstr("Nonce Verify error")));
    EXPECT_THAT(text, Not(HasSubstr("WARNING")));
    EXPECT_THAT(text, HasSubstr("Cert Status: good"));
    EXPECT_THAT(text, HasSubstr(absl::AsciiStrToUpper(Good().serial)));
  }
}

TEST_F(StatusInteropTest, EveryCertIdOfARequestIsAnswered) {
  // SHA-1 and SHA-256 CertIDs mixed (openssl applies a digest option to the CertIDs after it); 16,
  // the most one request may hold; cfssl answers only the first.
  std::vector<std::string> arguments = {
      "-issuer", Good().issuer,        "-cert", Good().certificate, "-sha256",
      "-cert",   Revoked().certificate};
  for (int i = 0; i < 14; ++i) {
    arguments.insert(arguments.end(), {"-serial", absl::StrCat(kUnknownSerial, absl::Hex(i))});
  }
  for (const bool nonce : {true, false}) {
    SCOPED_TRACE(nonce ? "with a nonce" : "-no_nonce");
    const std::string answer = Ocsp(arguments, nonce);
    EXPECT_THAT(answer, HasSubstr("Response verify OK"));
    EXPECT_THAT(answer, Not(HasSubstr("No Status found")));
    EXPECT_THAT(answer, HasSubstr(Good().certificate + ": good"));
    EXPECT_THAT(answer, HasSubstr(Revoked().certificate + ": revoked"));
    EXPECT_THAT(answer, HasSubstr("Reason: keyCompromise"));
    for (int i = 0; i < 14; ++i) {
      EXPECT_THAT(answer, HasSubstr(absl::StrCat(kUnknownSerial, absl::Hex(i), ": unknown")));
    }
  }
}

TEST_F(StatusInteropTest, ClientsThatConnectAndCloseWithoutARequestDoNotStopTheResponder) {
  // openssl ocsp's single-process responder stops answering for good after one such client.
  const auto connect_to_listener = [] {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(Environment().status_port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
    return fd;
  };
  for (int i = 0; i < 50; ++i) close(connect_to_listener());
  // Half a request, then gone; and a reset instead of a close.
  for (int i = 0; i < 10; ++i) {
    const int fd = connect_to_listener();
    constexpr std::string_view kHalf = "POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 90\r\n";
    EXPECT_EQ(write(fd, kHalf.data(), kHalf.size()), static_cast<ssize_t>(kHalf.size()));
    if (i % 2 == 1) {
      const linger reset{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    }
    close(fd);
  }
  // And one that connects and stays silent while others are answered.
  const int idle = connect_to_listener();
  for (const bool nonce : {false, true}) {
    const std::string good = Ocsp({"-issuer", Good().issuer, "-cert", Good().certificate}, nonce);
    EXPECT_THAT(good, HasSubstr("Response verify OK"));
    EXPECT_THAT(good, HasSubstr(Good().certificate + ": good"));
  }
  close(idle);
  const auto health = testing::HttpGet(Environment().status_url() + "/healthz");
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace keyline
