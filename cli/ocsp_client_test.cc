// The OCSP client against an independent responder: `openssl ocsp` answers our requests, both
// offline (-reqin/-respout, to feed VerifyOcspResponse exact bytes) and as an HTTP responder on a
// local port (for PostOcspRequest and the whole `keylinectl status` run). The PKI is made with
// the openssl CLI too, backdated by two days so that answers can be judged at other times.
#include "cli/ocsp_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "cli/status_command.h"
#include "common/files.h"
#include "common/hex.h"
#include "tests/support/subprocess.h"

namespace keyline::cli {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// 16-octet serials, like Keyline's (ca/serial_number.h).
constexpr char kGoodSerial[] = "5a00000000000000000000000000a001";
constexpr char kRevokedSerial[] = "5a00000000000000000000000000a002";
constexpr char kRevokedWithoutReasonSerial[] = "5a00000000000000000000000000a003";
constexpr char kUnknownSerial[] = "5a00000000000000000000000000a0ff";

constexpr char kCaConfig[] = R"([ ca ]
default_ca = test_ca
[ test_ca ]
database = ca-db.txt
new_certs_dir = .
serial = ca-serial.txt
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no
copy_extensions = none
[ any_name ]
commonName = supplied
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ responder_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,OCSPSigning
[ plain_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
)";

std::string Utc(absl::Time time) {  // UTCTime, as openssl's index and -startdate take it
  return absl::FormatTime("%y%m%d%H%M%SZ", time, absl::UTCTimeZone());
}

class OcspClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/keyline-ocsp-client-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = new std::string(pattern);
    start_ = absl::Now();
    ASSERT_TRUE(WriteFileAtomically(Path("ca.cnf"), kCaConfig).ok());
    ASSERT_TRUE(WriteFileAtomically(Path("ca-db.txt"), "").ok());
    ASSERT_TRUE(WriteFileAtomically(Path("ca-serial.txt"), "1000\n").ok());
    MakeCa("ca", "Test Issuing CA");
    MakeCa("other", "Other CA");
    Issue("rsp", "Test OCSP Responder", "ca", "responder_ext");
    Issue("plain", "Not A Responder", "ca", "plain_ext");
    Issue("other-rsp", "Other OCSP Responder", "other", "responder_ext");

    const std::string expiry = Utc(start_ + absl::Hours(24 * 365));
    const std::string revoked = Utc(start_ - absl::Hours(24));
    revoked_at_ =
        new absl::Time(absl::FromUnixSeconds(absl::ToUnixSeconds(start_ - absl::Hours(24))));
    const std::string index =
        absl::StrCat("V\t", expiry, "\t\t", Upper(kGoodSerial), "\tunknown\t/CN=good\n", "R\t",
                     expiry, "\t", revoked, ",keyCompromise\t", Upper(kRevokedSerial),
                     "\tunknown\t/CN=revoked\n", "R\t", expiry, "\t", revoked, "\t",
                     Upper(kRevokedWithoutReasonSerial), "\tunknown\t/CN=revoked-no-reason\n");
    ASSERT_TRUE(WriteFileAtomically(Path("index.txt"), index).ok());
    issuer_ = new X509Ptr(LoadCertificate("ca.pem"));
    other_ = new X509Ptr(LoadCertificate("other.pem"));
  }

  static void TearDownTestSuite() {
    delete issuer_;
    delete other_;
    delete revoked_at_;
    (void)testing::RunProcess({"rm", "-rf", *dir_});
    delete dir_;
  }

  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }

  static std::string Upper(std::string hex) {
    for (char& c : hex) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
    return hex;
  }

  static std::string Openssl(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), "openssl");
    // openssl ca resolves its database and serial files against the working directory.
    std::vector<std::string> in_dir = {"env", "-C", *dir_};
    in_dir.insert(in_dir.end(), arguments.begin(), arguments.end());
    auto run = testing::RunProcess(in_dir, {}, absl::Seconds(60));
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) return "";
    EXPECT_EQ(run->exit_code, 0) << absl::StrJoin(arguments, " ") << "\n" << run->out << run->err;
    return run->out;
  }

  static void NewKeyAndCsr(const std::string& name, const std::string& common_name) {
    Openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
             name + ".key"});
    Openssl({"req", "-new", "-key", name + ".key", "-subj", "/CN=" + common_name, "-out",
             name + ".csr"});
  }

  static void MakeCa(const std::string& name, const std::string& common_name) {
    NewKeyAndCsr(name, common_name);
    Openssl({"ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", name + ".key", "-in",
             name + ".csr", "-out", name + ".pem", "-startdate", Utc(start_ - absl::Hours(48)),
             "-enddate", Utc(start_ + absl::Hours(24 * 30)), "-extensions", "ca_ext", "-notext"});
  }

  static void Issue(const std::string& name, const std::string& common_name,
                    const std::string& issuer, const std::string& extensions) {
    NewKeyAndCsr(name, common_name);
    Openssl({"ca", "-batch", "-config", "ca.cnf", "-cert", issuer + ".pem", "-keyfile",
             issuer + ".key", "-in", name + ".csr", "-out", name + ".pem", "-startdate",
             Utc(start_ - absl::Hours(48)), "-enddate", Utc(start_ + absl::Hours(24 * 30)),
             "-extensions", extensions, "-notext"});
  }

  static X509Ptr LoadCertificate(const std::string& name) {
    auto pem = ReadFile(Path(name));
    EXPECT_TRUE(pem.ok()) << pem.status();
    auto der = ca::PemToDerChain(pem.ok() ? *pem : "");
    EXPECT_TRUE(der.ok()) << der.status();
    auto certificate = ca::ParseCertificateDer(der.ok() ? der->front() : "");
    EXPECT_TRUE(certificate.ok());
    return certificate.ok() ? *std::move(certificate) : nullptr;
  }

  static PreparedOcspRequest Request(const std::string& serial_hex, bool nonce = true,
                                     bool sha256 = false, X509* issuer = nullptr) {
    OcspRequestOptions options;
    options.serial = *HexDecode(serial_hex);
    options.nonce = nonce;
    options.sha256_cert_id = sha256;
    auto request = BuildOcspRequest(options, issuer != nullptr ? issuer : issuer_->get());
    EXPECT_TRUE(request.ok()) << request.status();
    return request.ok() ? *std::move(request) : PreparedOcspRequest{};
  }

  // `openssl ocsp` answering `request` offline, signed by `signer` for CA `ca`.
  static std::string Answer(const PreparedOcspRequest& request, const std::string& signer = "rsp",
                            const std::string& ca = "ca") {
    static int counter = 0;
    const std::string in = absl::StrCat("req-", counter, ".der");
    const std::string out = absl::StrCat("resp-", counter++, ".der");
    EXPECT_TRUE(WriteFileAtomically(Path(in), request.der).ok());
    Openssl({"ocsp", "-index", "index.txt", "-CA", ca + ".pem", "-rsigner", signer + ".pem",
             "-rkey", signer + ".key", "-reqin", in, "-respout", out, "-ndays", "1"});
    auto response = ReadFile(Path(out));
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : "";
  }

  static std::string* dir_;
  static absl::Time start_;
  static absl::Time* revoked_at_;
  static X509Ptr* issuer_;
  static X509Ptr* other_;
};

std::string* OcspClientTest::dir_ = nullptr;
absl::Time OcspClientTest::start_;
absl::Time* OcspClientTest::revoked_at_ = nullptr;
X509Ptr* OcspClientTest::issuer_ = nullptr;
X509Ptr* OcspClientTest::other_ = nullptr;

TEST_F(OcspClientTest, RequestNamesTheSerialWithANonceAndTheChosenHash) {
  const PreparedOcspRequest request = Request(kGoodSerial);
  ASSERT_TRUE(WriteFileAtomically(Path("text-req.der"), request.der).ok());
  const std::string text = Openssl({"ocsp", "-reqin", "text-req.der", "-req_text"});
  EXPECT_THAT(text, HasSubstr("Hash Algorithm: sha1"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("Serial Number: ", Upper(kGoodSerial))));
  EXPECT_THAT(text, HasSubstr("OCSP Nonce"));

  const PreparedOcspRequest sha256 = Request(kGoodSerial, /*nonce=*/false, /*sha256=*/true);
  ASSERT_TRUE(WriteFileAtomically(Path("text-req2.der"), sha256.der).ok());
  const std::string text2 = Openssl({"ocsp", "-reqin", "text-req2.der", "-req_text"});
  EXPECT_THAT(text2, HasSubstr("Hash Algorithm: sha256"));
  EXPECT_THAT(text2, Not(HasSubstr("OCSP Nonce")));
}

TEST_F(OcspClientTest, GoodAnswerFromADelegatedResponder) {
  const PreparedOcspRequest request = Request(kGoodSerial);
  const auto verdict = VerifyOcspResponse(Answer(request), request, issuer_->get(), absl::Now());
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdict->status, OcspCertificateStatus::kGood);
  EXPECT_TRUE(verdict->nonce_matched);
  EXPECT_EQ(verdict->responder, "CN=Test OCSP Responder");
  EXPECT_LE(verdict->this_update, absl::Now() + absl::Seconds(1));
  ASSERT_TRUE(verdict->next_update.has_value());
  EXPECT_NEAR(absl::ToDoubleHours(*verdict->next_update - verdict->this_update), 24, 0.01);
  EXPECT_FALSE(verdict->revoked_at.has_value());
}

TEST_F(OcspClientTest, RevokedAnswerCarriesTimeAndReason) {
  const PreparedOcspRequest request = Request(kRevokedSerial, true, /*sha256=*/true);
  const auto verdict = VerifyOcspResponse(Answer(request), request, issuer_->get(), absl::Now());
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdict->status, OcspCertificateStatus::kRevoked);
  ASSERT_TRUE(verdict->revoked_at.has_value());
  EXPECT_EQ(*verdict->revoked_at, *revoked_at_);
  EXPECT_EQ(verdict->reason, 1);  // keyCompromise

  const PreparedOcspRequest no_reason = Request(kRevokedWithoutReasonSerial);
  const auto plain = VerifyOcspResponse(Answer(no_reason), no_reason, issuer_->get(), absl::Now());
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->status, OcspCertificateStatus::kRevoked);
  EXPECT_FALSE(plain->reason.has_value());
}

TEST_F(OcspClientTest, UnknownSerialAndAnswersWithoutANonceWhenNoneWasAsked) {
  const PreparedOcspRequest request = Request(kUnknownSerial, /*nonce=*/false);
  const auto verdict = VerifyOcspResponse(Answer(request), request, issuer_->get(), absl::Now());
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_EQ(verdict->status, OcspCertificateStatus::kUnknown);
  EXPECT_FALSE(verdict->nonce_matched);
}

TEST_F(OcspClientTest, RefusesAnAnswerToAnotherNonce) {
  const PreparedOcspRequest asked = Request(kGoodSerial);
  const PreparedOcspRequest other = Request(kGoodSerial);
  const auto verdict = VerifyOcspResponse(Answer(other), asked, issuer_->get(), absl::Now());
  EXPECT_EQ(verdict.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(verdict.status().message(), HasSubstr("nonce differs"));
}

TEST_F(OcspClientTest, RefusesAnAnswerWithoutTheNonceAskedFor) {
  const PreparedOcspRequest asked = Request(kGoodSerial);
  const PreparedOcspRequest without = Request(kGoodSerial, /*nonce=*/false);
  const auto verdict = VerifyOcspResponse(Answer(without), asked, issuer_->get(), absl::Now());
  EXPECT_EQ(verdict.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(verdict.status().message(), HasSubstr("no nonce"));
  EXPECT_THAT(verdict.status().message(), HasSubstr("--no-nonce"));
}

TEST_F(OcspClientTest, RefusesAResponderTheIssuerDidNotAuthorize) {
  const PreparedOcspRequest request = Request(kRevokedSerial);
  // Certified by another CA, answering about our issuer's certificate.
  const auto foreign =
      VerifyOcspResponse(Answer(request, "other-rsp", "ca"), request, issuer_->get(), absl::Now());
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(foreign.status().message(), HasSubstr("not signed by the issuer"));
  // Certified by the issuer, but without id-kp-OCSPSigning.
  const auto plain =
      VerifyOcspResponse(Answer(request, "plain", "ca"), request, issuer_->get(), absl::Now());
  EXPECT_EQ(plain.status().code(), absl::StatusCode::kPermissionDenied);
  // A genuine answer judged against another issuer.
  const auto wrong_anchor =
      VerifyOcspResponse(Answer(request), request, other_->get(), absl::Now());
  EXPECT_EQ(wrong_anchor.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(OcspClientTest, RefusesAnAnswerThatDoesNotCoverTheCertificate) {
  // Signed properly, but about another issuer's CertID (same serial).
  const PreparedOcspRequest about_other = Request(kGoodSerial, false, false, other_->get());
  const PreparedOcspRequest asked = Request(kGoodSerial, false);
  const std::string answer = Answer(about_other, "other-rsp", "other");
  const auto verdict = VerifyOcspResponse(answer, asked, other_->get(), absl::Now());
  EXPECT_EQ(verdict.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(OcspClientTest, RefusesStaleAndPrematureAnswers) {
  const PreparedOcspRequest request = Request(kGoodSerial);
  const std::string answer = Answer(request);
  const auto stale =
      VerifyOcspResponse(answer, request, issuer_->get(), absl::Now() + absl::Hours(48));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(stale.status().message(), HasSubstr("stale"));
  const auto premature =
      VerifyOcspResponse(answer, request, issuer_->get(), absl::Now() - absl::Hours(1));
  EXPECT_EQ(premature.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(premature.status().message(), HasSubstr("in the future"));
  // Within the clock-skew allowance it is accepted.
  EXPECT_TRUE(
      VerifyOcspResponse(answer, request, issuer_->get(), absl::Now() - absl::Minutes(4)).ok());
}

TEST_F(OcspClientTest, RefusesGarbageAndUnsuccessfulResponses) {
  const PreparedOcspRequest request = Request(kGoodSerial);
  EXPECT_EQ(VerifyOcspResponse("not DER", request, issuer_->get(), absl::Now()).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string trailing = Answer(request);
  trailing.push_back('\0');
  EXPECT_EQ(VerifyOcspResponse(trailing, request, issuer_->get(), absl::Now()).status().code(),
            absl::StatusCode::kInvalidArgument);
  // OCSPResponse { responseStatus unauthorized(6) }
  const std::string unauthorized("\x30\x03\x0a\x01\x06", 5);
  const auto verdict = VerifyOcspResponse(unauthorized, request, issuer_->get(), absl::Now());
  EXPECT_EQ(verdict.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(verdict.status().message(), HasSubstr("unauthorized"));
}

TEST_F(OcspClientTest, PostRefusesUrlsItCannotUse) {
  EXPECT_EQ(PostOcspRequest("not a url", "x", absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PostOcspRequest("ftp://host/ocsp", "x", absl::Seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(PostOcspRequest("https://host/ocsp", "x", absl::Seconds(1)).status().message(),
              HasSubstr("https is not supported"));
}

// ---- against `openssl ocsp -port`, through RunStatus (what `keylinectl status` runs) ---------

class OcspResponderTest : public OcspClientTest {
 protected:
  void SetUp() override {
    unsetenv("KEYLINE_OCSP_URL");
    port_ = testing::PickFreePort();
    auto child =
        testing::ChildProcess::Spawn({"env", "-C", *dir_, "openssl", "ocsp", "-index", "index.txt",
                                      "-port", std::to_string(port_), "-CA", "ca.pem", "-rsigner",
                                      "rsp.pem", "-rkey", "rsp.key", "-ndays", "1"},
                                     Path(absl::StrCat("responder-", port_, ".log")));
    ASSERT_TRUE(child.ok()) << child.status();
    responder_ = *std::move(child);
    // Ready once it reports listening. (Not by probing the port: openssl 3.0's responder
    // stops answering after a connection that closes without a request.)
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      auto log = ReadFile(Path(absl::StrCat("responder-", port_, ".log")));
      if (log.ok() && log->find("ACCEPT") != std::string::npos) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL() << "openssl ocsp did not listen on port " << port_;
  }

  struct Run {
    int exit_code;
    std::string out;
    std::string err;
  };

  Run Status(const std::string& serial, OutputFormat format = OutputFormat::kText,
             StatusOptions options = {}) {
    options.serial = serial;
    if (options.issuer_file.empty()) options.issuer_file = Path("ca.pem");
    if (options.url.empty()) options.url = absl::StrCat("http://127.0.0.1:", port_, "/ocsp");
    std::ostringstream out, err;
    const int exit_code = RunStatus(options, format, out, err);
    return {exit_code, out.str(), err.str()};
  }

  int port_ = 0;
  std::unique_ptr<testing::ChildProcess> responder_;
};

TEST_F(OcspResponderTest, GoodExitsZero) {
  const Run run = Status(kGoodSerial);
  EXPECT_EQ(run.exit_code, kStatusGoodExitCode) << run.err;
  EXPECT_THAT(run.out, ContainsRegex("status: +good"));
  EXPECT_THAT(run.out, ContainsRegex("responder: +CN=Test OCSP Responder"));
  EXPECT_THAT(run.out, ContainsRegex("nonce: +matched"));
  EXPECT_THAT(run.out, ContainsRegex("next update: +20"));
  EXPECT_THAT(run.err, IsEmpty());
}

TEST_F(OcspResponderTest, RevokedExitsOneWithTimeAndReason) {
  const Run run = Status(Upper(kRevokedSerial));
  EXPECT_EQ(run.exit_code, kStatusRevokedExitCode) << run.err;
  EXPECT_THAT(run.out, ContainsRegex("status: +revoked"));
  EXPECT_THAT(run.out, ContainsRegex("reason: +keyCompromise"));
  EXPECT_THAT(run.out, ContainsRegex(absl::FormatTime("revoked at: +%Y-%m-%dT%H:%M:%SZ",
                                                      *revoked_at_, absl::UTCTimeZone())));

  const Run json = Status(kRevokedSerial, OutputFormat::kJson);
  EXPECT_EQ(json.exit_code, kStatusRevokedExitCode) << json.err;
  const auto parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed["status"], "revoked");
  EXPECT_EQ(parsed["reason"], "keyCompromise");
  EXPECT_EQ(parsed["serial"], kRevokedSerial);
  EXPECT_EQ(parsed["nonce"], "matched");
  EXPECT_FALSE(parsed["next_update"].is_null());
}

TEST_F(OcspResponderTest, UnknownExitsTwoAndSha256AndNoNonceWork) {
  StatusOptions options;
  options.sha256_cert_id = true;
  options.no_nonce = true;
  const Run run = Status(kUnknownSerial, OutputFormat::kText, options);
  EXPECT_EQ(run.exit_code, kStatusUnknownExitCode) << run.err;
  EXPECT_THAT(run.out, ContainsRegex("status: +unknown"));
  EXPECT_THAT(run.out, ContainsRegex("nonce: +not requested"));
}

TEST_F(OcspResponderTest, ErrorsExitThreeWithAMessage) {
  StatusOptions garbage;
  garbage.url = "garbage";
  Run run = Status(kGoodSerial, OutputFormat::kText, garbage);
  EXPECT_EQ(run.exit_code, kStatusErrorExitCode);
  EXPECT_THAT(run.err, HasSubstr("is not an http:// URL"));
  EXPECT_THAT(run.out, IsEmpty());

  StatusOptions refused;
  refused.url = absl::StrCat("http://127.0.0.1:", testing::PickFreePort(), "/ocsp");
  refused.timeout_seconds = 1;  // openssl retries a refused connection until the timeout
  run = Status(kGoodSerial, OutputFormat::kText, refused);
  EXPECT_EQ(run.exit_code, kStatusErrorExitCode);
  EXPECT_THAT(run.err, HasSubstr("error: UNAVAILABLE: POST " + refused.url));

  StatusOptions json_error;
  json_error.url = "http://";
  run = Status(kGoodSerial, OutputFormat::kJson, json_error);
  EXPECT_EQ(run.exit_code, kStatusErrorExitCode);
  EXPECT_TRUE(nlohmann::json::parse(run.err).contains("error")) << run.err;

  // The responder's answer is not for this issuer: verification fails.
  StatusOptions wrong_issuer;
  wrong_issuer.issuer_file = Path("other.pem");
  run = Status(kGoodSerial, OutputFormat::kText, wrong_issuer);
  EXPECT_EQ(run.exit_code, kStatusErrorExitCode);
  EXPECT_THAT(run.out, IsEmpty());

  EXPECT_EQ(Status("xyz").exit_code, kStatusErrorExitCode);
  EXPECT_EQ(Status("").exit_code, kStatusErrorExitCode);
  StatusOptions missing_issuer;
  missing_issuer.issuer_file = Path("missing.pem");
  EXPECT_EQ(Status(kGoodSerial, OutputFormat::kText, missing_issuer).exit_code,
            kStatusErrorExitCode);
  StatusOptions chain;
  const std::string both = *ReadFile(Path("ca.pem")) + *ReadFile(Path("other.pem"));
  ASSERT_TRUE(WriteFileAtomically(Path("two.pem"), both).ok());
  chain.issuer_file = Path("two.pem");
  run = Status(kGoodSerial, OutputFormat::kText, chain);
  EXPECT_EQ(run.exit_code, kStatusErrorExitCode);
  EXPECT_THAT(run.err, HasSubstr("holds 2 certificates"));
  StatusOptions timeout;
  timeout.timeout_seconds = 0;
  EXPECT_EQ(Status(kGoodSerial, OutputFormat::kText, timeout).exit_code, kStatusErrorExitCode);
}

TEST_F(OcspResponderTest, UrlFromTheFlagTheEnvironmentOrTheServer) {
  StatusOptions options;
  options.serial = kGoodSerial;
  options.issuer_file = Path("ca.pem");
  options.server = "[::1";
  std::ostringstream out, err;
  EXPECT_EQ(RunStatus(options, OutputFormat::kText, out, err), kStatusErrorExitCode);
  EXPECT_THAT(err.str(), HasSubstr("--url: give the OCSP responder's URL"));

  setenv("KEYLINE_OCSP_URL", absl::StrCat("http://127.0.0.1:", port_, "/").c_str(), 1);
  std::ostringstream out2, err2;
  EXPECT_EQ(RunStatus(options, OutputFormat::kText, out2, err2), kStatusGoodExitCode) << err2.str();
  unsetenv("KEYLINE_OCSP_URL");
}

TEST(DefaultOcspUrlTest, TakesTheHostOfTheGrpcTarget) {
  EXPECT_EQ(*DefaultOcspUrl("localhost:8443"), "http://localhost:8080/ocsp");
  EXPECT_EQ(*DefaultOcspUrl("pki.example.org"), "http://pki.example.org:8080/ocsp");
  EXPECT_EQ(*DefaultOcspUrl("10.1.2.3:9443"), "http://10.1.2.3:8080/ocsp");
  EXPECT_EQ(*DefaultOcspUrl("[2001:db8::7]:8443"), "http://[2001:db8::7]:8080/ocsp");
  EXPECT_EQ(*DefaultOcspUrl("dns:///keyline.ward.local:8443"),
            "http://keyline.ward.local:8080/ocsp");
  EXPECT_EQ(*DefaultOcspUrl("ipv4:127.0.0.1:8443"), "http://127.0.0.1:8080/ocsp");
  for (const char* bad : {"", ":8443", "[::1", "[]:8443", "2001:db8::7", "dns:///"}) {
    EXPECT_EQ(DefaultOcspUrl(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace keyline::cli
