// The Token implementation over a PKCS#11 module: a session pool on one token's slot.
//
// ListKeys leaves out private keys Keyline cannot use (not EC, or a curve other than P-256 and
// P-384): KeyInfo cannot describe them, and no Keyline code could sign with them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "hsm/session_pool.h"
#include "hsm/token.h"

namespace keyline::hsm {

class Pkcs11Token final : public Token {
 public:
  // See Token::Open.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Pkcs11Token>> Open(const TokenConfig& config);

  [[nodiscard]] absl::StatusOr<KeyInfo> GenerateKeyPair(KeyAlgorithm algorithm,
                                                        const std::string& label,
                                                        const std::string& id) override;
  [[nodiscard]] absl::StatusOr<std::unique_ptr<SigningKey>> FindSigningKey(
      const std::string& label, const std::string& id) override;
  [[nodiscard]] absl::StatusOr<KeyInfo> DescribeKey(const std::string& label) override;
  [[nodiscard]] absl::StatusOr<std::vector<KeyInfo>> ListKeys() override;
  uint64_t session_recoveries() const override { return pool_->recoveries(); }

  // The slot the token sits in (for diagnostics and tests).
  CK_SLOT_ID slot() const { return pool_->slot(); }

 private:
  explicit Pkcs11Token(std::shared_ptr<SessionPool> pool) : pool_(std::move(pool)) {}

  const std::shared_ptr<SessionPool> pool_;
  // Makes "label is free" and "generate" one step for the threads of this process.
  absl::Mutex generation_mutex_;
};

}  // namespace keyline::hsm
