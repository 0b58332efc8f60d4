#include "common/tls_policy.h"

#include <openssl/ssl.h>

#include <gtest/gtest.h>

namespace keyline {
namespace {

TEST(TlsPolicyTest, NewContextsRefuseEverythingBelowTls13EvenWithAMinimumOf12) {
  ASSERT_TRUE(RequireTls13ForThisProcess().ok());
  ASSERT_TRUE(RequireTls13ForThisProcess().ok());  // idempotent
  SSL_CTX* context = SSL_CTX_new(TLS_method());
  ASSERT_NE(context, nullptr);
  // What gRPC does to its own contexts.
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  const uint64_t options = SSL_CTX_get_options(context);
  EXPECT_NE(options & SSL_OP_NO_TLSv1_2, 0u);
  EXPECT_NE(options & SSL_OP_NO_TLSv1_1, 0u);
  EXPECT_EQ(options & SSL_OP_NO_TLSv1_3, 0u);
  SSL_CTX_free(context);
}

}  // namespace
}  // namespace keyline
