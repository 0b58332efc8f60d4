#include "ca/chain_verifier.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "absl/strings/str_cat.h"
#include "ca/certificate_der.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {

absl::Status VerifyCertificateChain(std::string_view leaf_der,
                                    const std::vector<std::string>& intermediates_der,
                                    std::string_view root_der, const VerifyOptions& options) {
  auto leaf = ParseCertificateDer(leaf_der);
  if (!leaf.ok()) return leaf.status();
  auto root = ParseCertificateDer(root_der);
  if (!root.ok()) return root.status();

  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), root->get());
  X509StackPtr untrusted(sk_X509_new_null());
  for (const auto& der : intermediates_der) {
    auto intermediate = ParseCertificateDer(der);
    if (!intermediate.ok()) return intermediate.status();
    sk_X509_push(untrusted.get(), intermediate->release());
  }

  X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(context.get(), store.get(), leaf->get(), untrusted.get()) != 1) {
    ERR_clear_error();
    return absl::InternalError("chain: verifier setup failed");
  }
  X509_STORE_CTX_set_flags(context.get(), X509_V_FLAG_X509_STRICT);
  if (options.purpose) X509_STORE_CTX_set_purpose(context.get(), *options.purpose);
  if (options.at) X509_STORE_CTX_set_time(context.get(), 0, absl::ToTimeT(*options.at));
  if (X509_verify_cert(context.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(context.get());
    ERR_clear_error();
    return absl::FailedPreconditionError(
        absl::StrCat("chain: ", X509_verify_cert_error_string(error), " at depth ",
                     X509_STORE_CTX_get_error_depth(context.get())));
  }
  return absl::OkStatus();
}

}  // namespace keyline::ca
