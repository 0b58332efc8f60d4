#include "common/tls_policy.h"

#include <openssl/conf.h>
#include <openssl/ssl.h>

#include <mutex>

#include "common/openssl_error.h"
#include "common/openssl_ptr.h"

namespace keyline {
namespace {

constexpr char kTls13Only[] =
    "openssl_conf = keyline_openssl\n"
    "[keyline_openssl]\n"
    "ssl_conf = keyline_ssl\n"
    "[keyline_ssl]\n"
    "system_default = keyline_tls\n"
    "[keyline_tls]\n"
    "Protocol = -ALL, TLSv1.3\n";

using ConfPtr = OpenSslPtr<CONF, NCONF_free>;

// gRPC tears channels down on its own threads, which can still be freeing SSL_CTXs while the
// main thread runs the exit handlers; OpenSSL's atexit cleanup would free the object tables they
// use (seen as a crash in ASN1_OBJECT_free during exit). Every process that links this file
// speaks gRPC, so OpenSSL's state is kept until the process is gone. This must be OpenSSL's first
// initialisation to take effect, hence a static initialiser.
[[maybe_unused]] const bool kOpenSslWithoutAtExit =
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr) == 1;

absl::Status Apply() {
  // Load the system configuration first: OpenSSL loads it once, and a later automatic load
  // must not replace what we set here.
  if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "TLS policy: OpenSSL initialisation");
  }
  ConfPtr conf(NCONF_new(nullptr));
  BioPtr bio(BIO_new_mem_buf(kTls13Only, static_cast<int>(sizeof(kTls13Only) - 1)));
  long error_line = 0;
  if (!conf || NCONF_load_bio(conf.get(), bio.get(), &error_line) != 1 ||
      CONF_modules_load(conf.get(), nullptr, 0) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "TLS policy: loading TLS 1.3 configuration");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RequireTls13ForThisProcess() {
  static std::once_flag once;
  static absl::Status result;
  std::call_once(once, [] { result = Apply(); });
  return result;
}

}  // namespace keyline
