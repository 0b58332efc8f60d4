#include "tests/support/relying_party.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ca/certificate_der.h"
#include "ca/software_key.h"
#include "common/files.h"

namespace keyline::testing {
namespace {

size_t Indentation(absl::string_view line) {
  return line.find_first_not_of(' ') == absl::string_view::npos ? line.size()
                                                                : line.find_first_not_of(' ');
}

// The "URI:..." values in the block of `text` under the line naming `extension_name`.
std::vector<std::string> UrisUnder(const std::string& text, const std::string& extension_name) {
  std::vector<std::string> uris;
  const std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!absl::StrContains(lines[i], extension_name)) continue;
    const size_t header = Indentation(lines[i]);
    for (size_t j = i + 1; j < lines.size() && Indentation(lines[j]) > header; ++j) {
      absl::string_view value = absl::StripAsciiWhitespace(lines[j]);
      if (absl::ConsumePrefix(&value, "URI:")) uris.emplace_back(value);
    }
    break;
  }
  return uris;
}

absl::StatusOr<HttpReply> Curl(std::vector<std::string> arguments, const std::string& input) {
  // Headers to stderr, the body (binary) to stdout.
  arguments.insert(arguments.begin(), {"curl", "-sS", "--path-as-is", "--max-time", "20", "-H",
                                       "Expect:", "-D", "/dev/stderr", "-o", "-"});
  auto run = RunProcess(arguments, {}, absl::Seconds(30), input);
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    return absl::UnavailableError(absl::StrCat("curl exited ", run->exit_code, ": ", run->err));
  }
  HttpReply reply;
  reply.body = std::move(run->out);
  for (absl::string_view line : absl::StrSplit(run->err, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (absl::StartsWith(line, "HTTP/")) {
      const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
      if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &reply.status)) {
        return absl::InternalError(absl::StrCat("curl: status line \"", line, "\""));
      }
    } else if (const size_t colon = line.find(':'); colon != absl::string_view::npos) {
      reply.headers[absl::AsciiStrToLower(line.substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  reply.content_type = reply.headers["content-type"];
  return reply;
}

absl::StatusOr<std::string> OpensslText(const std::vector<std::string>& arguments) {
  auto run = Openssl(".", arguments);
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    return absl::InternalError(absl::StrCat("openssl ", arguments[0], ": ", run->err));
  }
  return run->out;
}

}  // namespace

absl::StatusOr<DeviceFiles> EnrollDeviceToFiles(Fleet& fleet, const std::string& name,
                                                const std::string& directory) {
  auto devices = fleet.Manufacture(name, 1);
  if (!devices.ok()) return devices.status();
  if (auto claimed = fleet.Claim(*devices); !claimed.ok()) return claimed;
  SimulatedDevice& device = (*devices)[0];
  EnrollmentOptions options;
  options.software_deployment_key = true;  // mosquitto_pub and curl need a key file
  auto enrolled = Enroll(fleet.Anonymous(), device, fleet.secure_element(), options);
  if (!enrolled.ok()) return enrolled.status();
  const keyline::v1::IssuedCertificate& issued = enrolled->certificate();
  if (issued.chain_size() < 2) return absl::InternalError("enrollment: chain without a root");

  DeviceFiles files;
  files.serial = issued.serial();
  files.certificate = absl::StrCat(directory, "/", name, ".pem");
  files.chain = absl::StrCat(directory, "/", name, "-chain.pem");
  files.key = absl::StrCat(directory, "/", name, ".key");
  files.issuer = absl::StrCat(directory, "/issuer.pem");
  files.root = absl::StrCat(directory, "/root.pem");
  auto key = ca::PrivateKeyToPem(device.deployment_key->public_key());
  if (!key.ok()) return key.status();
  const std::string leaf = ca::DerToPem(issued.certificate());
  for (const auto& [path, contents, mode] :
       {std::tuple<std::string, std::string, unsigned>{files.certificate, leaf, 0644},
        {files.chain, leaf + ca::DerToPem(issued.chain(0)), 0644},
        {files.key, *key, 0600},
        {files.issuer, ca::DerToPem(issued.chain(0)), 0644},
        {files.root, ca::DerToPem(issued.chain(issued.chain_size() - 1)), 0644}}) {
    if (auto written = WriteFileAtomically(path, contents, mode); !written.ok()) return written;
  }
  return files;
}

absl::StatusOr<HttpReply> HttpGet(const std::string& url) { return Curl({url}, ""); }

absl::StatusOr<HttpReply> HttpPost(const std::string& url, const std::string& body,
                                   const std::string& content_type) {
  return Curl({"-H", absl::StrCat("Content-Type: ", content_type), "--data-binary", "@-", url},
              body);
}

absl::StatusOr<ProcessResult> Openssl(const std::string& directory,
                                      const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {"env", "-C", directory, "openssl"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return RunProcess(argv, {}, absl::Seconds(60));
}

absl::StatusOr<std::vector<std::string>> CertificateExtensionUris(
    const std::string& pem_file, const std::string& extension_name) {
  auto text = OpensslText({"x509", "-in", pem_file, "-noout", "-text"});
  if (!text.ok()) return text.status();
  return UrisUnder(*text, extension_name);
}

absl::StatusOr<std::vector<std::string>> CrlExtensionUris(const std::string& der_file,
                                                          const std::string& extension_name) {
  auto text = OpensslText({"crl", "-inform", "DER", "-in", der_file, "-noout", "-text"});
  if (!text.ok()) return text.status();
  return UrisUnder(*text, extension_name);
}

absl::StatusOr<std::vector<std::string>> CrlSerials(const std::string& der_file) {
  auto text = OpensslText({"crl", "-inform", "DER", "-in", der_file, "-noout", "-text"});
  if (!text.ok()) return text.status();
  std::vector<std::string> serials;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "Serial Number: ")) {
      serials.push_back(absl::AsciiStrToLower(line));
    }
  }
  return serials;
}

absl::StatusOr<CrlFacts> ReadCrlFacts(const std::string& der_file) {
  auto text = OpensslText({"crl", "-inform", "DER", "-in", der_file, "-noout", "-text"});
  if (!text.ok()) return text.status();
  CrlFacts facts;
  // Extension values follow their names on the next line.
  int64_t* next_value = nullptr;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (next_value != nullptr) {
      if (!absl::SimpleAtoi(line, next_value)) {
        return absl::InternalError(absl::StrCat(der_file, ": not a number: ", line));
      }
      next_value = nullptr;
    } else if (absl::StartsWith(line, "X509v3 CRL Number:")) {
      next_value = &facts.crl_number;
    } else if (absl::StartsWith(line, "X509v3 Delta CRL Indicator:")) {
      next_value = &facts.base_crl_number;
    } else if (absl::ConsumePrefix(&line, "Last Update: ")) {
      facts.last_update = std::string(line);
    }
  }
  if (facts.crl_number < 0 || facts.last_update.empty()) {
    return absl::InternalError(absl::StrCat(der_file, ": no CRL number or Last Update"));
  }
  return facts;
}

}  // namespace keyline::testing
