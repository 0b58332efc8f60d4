// What a relying party does with Keyline's status listener, through tools Keyline did not write:
// HTTP with curl, certificates and CRLs with the openssl command. Plus a device enrolled through
// the real enrollment path with its deployment key in memory, written to files those tools (and
// mosquitto) can load.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/fleet.h"
#include "tests/support/subprocess.h"

namespace keyline::testing {

// A device certificate and what verifying it needs, as PEM files in one directory.
struct DeviceFiles {
  std::string serial;       // lower-case hex, as keylinectl takes it
  std::string certificate;  // the leaf
  std::string chain;        // the leaf, then the deployment CA
  std::string key;          // the deployment key, PKCS#8 (mode 0600)
  std::string issuer;       // the deployment CA
  std::string root;         // Keyline's root CA
};

// Manufactures, claims and enrolls one device named `name` (its deployment key in software), and
// writes <directory>/<name>.pem, <name>-chain.pem, <name>.key, issuer.pem and root.pem.
[[nodiscard]] absl::StatusOr<DeviceFiles> EnrollDeviceToFiles(Fleet& fleet, const std::string& name,
                                                              const std::string& directory);

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
  std::map<std::string, std::string> headers;  // by lower-case name; the last of repeated ones
};

// curl, with the path sent as given (--path-as-is) and no "Expect: 100-continue".
[[nodiscard]] absl::StatusOr<HttpReply> HttpGet(const std::string& url);
[[nodiscard]] absl::StatusOr<HttpReply> HttpPost(
    const std::string& url, const std::string& body,
    const std::string& content_type = "application/ocsp-request");

// `openssl <arguments>`, run in `directory` (relative file names resolve there).
[[nodiscard]] absl::StatusOr<ProcessResult> Openssl(const std::string& directory,
                                                    const std::vector<std::string>& arguments);

// The URIs `openssl x509 -text` (certificates, PEM) or `openssl crl -text` (CRLs, DER) prints under
// an extension: "X509v3 CRL Distribution Points", "X509v3 Freshest CRL".
[[nodiscard]] absl::StatusOr<std::vector<std::string>> CertificateExtensionUris(
    const std::string& pem_file, const std::string& extension_name);
[[nodiscard]] absl::StatusOr<std::vector<std::string>> CrlExtensionUris(
    const std::string& der_file, const std::string& extension_name);

// Lower-case hex serials `openssl crl -text` lists in a DER CRL file.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> CrlSerials(const std::string& der_file);

// What `openssl crl -text` says of a DER CRL file's numbering and time.
struct CrlFacts {
  int64_t crl_number = -1;
  int64_t base_crl_number = -1;  // the Delta CRL Indicator; -1 for a full CRL
  std::string last_update;       // thisUpdate as openssl prints it
};
[[nodiscard]] absl::StatusOr<CrlFacts> ReadCrlFacts(const std::string& der_file);

}  // namespace keyline::testing
