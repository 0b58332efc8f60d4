// Token, session pool and signing key against real SoftHSM2 tokens in a temporary directory.
#include "hsm/token.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>

#include <atomic>
#include <barrier>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/absl_compat.h"
#include "common/openssl_ptr.h"
#include "hsm/testing/raw_pkcs11.h"
#include "hsm/testing/temp_softhsm.h"

namespace keyline::hsm {
namespace {

std::string Digest(const EVP_MD* md, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(message.data(), message.size(), digest, &length, md, nullptr), 1);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

const EVP_MD* DigestFor(KeyAlgorithm algorithm) {
  return algorithm == KeyAlgorithm::kEcdsaP256 ? EVP_sha256() : EVP_sha384();
}

bool Verifies(EVP_PKEY* key, std::string_view digest, std::string_view signature) {
  const EvpPkeyCtxPtr context(EVP_PKEY_CTX_new(key, nullptr));
  return context != nullptr && EVP_PKEY_verify_init(context.get()) == 1 &&
         EVP_PKEY_verify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(digest.data()),
                         digest.size()) == 1;
}

std::string RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  pclose(pipe);
  return output;
}

class TokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<TempSoftHsmToken> created = TempSoftHsmToken::CreateToken("keyline-test");
    ASSERT_TRUE(created.ok()) << created.status();
    shared_ = new TempSoftHsmToken(*std::move(created));
    absl::StatusOr<std::unique_ptr<Token>> token = Token::Open(shared_->config);
    ASSERT_TRUE(token.ok()) << token.status();
    token_ = token->release();
  }

  static void TearDownTestSuite() {
    delete token_;
    token_ = nullptr;
    delete shared_;
    shared_ = nullptr;
  }

  // A fresh token, opened, for tests that disturb its sessions.
  static std::unique_ptr<Token> OpenFreshToken(const std::string& label, size_t pool_size) {
    absl::StatusOr<TempSoftHsmToken> created = TempSoftHsmToken::CreateToken(label);
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return nullptr;
    created->config.session_pool_size = pool_size;
    absl::StatusOr<std::unique_ptr<Token>> token = Token::Open(created->config);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *std::move(token) : nullptr;
  }

  static std::unique_ptr<SigningKey> NewKey(Token& token, KeyAlgorithm algorithm,
                                            const std::string& label) {
    const absl::StatusOr<KeyInfo> info = token.GenerateKeyPair(algorithm, label, label + "-id");
    EXPECT_TRUE(info.ok()) << info.status();
    absl::StatusOr<std::unique_ptr<SigningKey>> key = token.FindSigningKey(label);
    EXPECT_TRUE(key.ok()) << key.status();
    return key.ok() ? *std::move(key) : nullptr;
  }

  // Signs a digest of `message` and checks the signature against the key's public half.
  static void ExpectSignsAndVerifies(const SigningKey& key, std::string_view message) {
    const std::string digest = Digest(DigestFor(key.algorithm()), message);
    const absl::StatusOr<std::string> signature = key.SignDigest(digest);
    ASSERT_TRUE(signature.ok()) << signature.status();
    EXPECT_TRUE(Verifies(key.public_key(), digest, *signature));
  }

  static TempSoftHsmToken* shared_;
  static Token* token_;
};

TempSoftHsmToken* TokenTest::shared_ = nullptr;
Token* TokenTest::token_ = nullptr;

TEST_F(TokenTest, GeneratesKeysAndSignsDigestsThatVerify) {
  for (const auto& [algorithm, label, bits] :
       {std::tuple{KeyAlgorithm::kEcdsaP256, "sign-p256", 256},
        std::tuple{KeyAlgorithm::kEcdsaP384, "sign-p384", 384}}) {
    SCOPED_TRACE(label);
    const absl::StatusOr<KeyInfo> info = token_->GenerateKeyPair(algorithm, label, "\x01\x02");
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->label, label);
    EXPECT_EQ(info->id, "\x01\x02");
    EXPECT_EQ(info->algorithm, algorithm);

    absl::StatusOr<std::unique_ptr<SigningKey>> key = token_->FindSigningKey(label);
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ((*key)->algorithm(), algorithm);
    ASSERT_NE((*key)->public_key(), nullptr);
    EXPECT_EQ(EVP_PKEY_get_bits((*key)->public_key()), bits);

    for (int i = 0; i < 20; ++i) {
      const std::string digest = Digest(DigestFor(algorithm), "message " + std::to_string(i));
      const absl::StatusOr<std::string> signature = (*key)->SignDigest(digest);
      ASSERT_TRUE(signature.ok()) << signature.status();
      EXPECT_TRUE(Verifies((*key)->public_key(), digest, *signature));
      std::string other = digest;
      other[0] ^= 1;
      EXPECT_FALSE(Verifies((*key)->public_key(), other, *signature));
    }
  }
}

TEST_F(TokenTest, FindsKeyByLabelAndId) {
  ASSERT_TRUE(token_->GenerateKeyPair(KeyAlgorithm::kEcdsaP256, "by-id", "id-7").ok());
  EXPECT_TRUE(token_->FindSigningKey("by-id", "id-7").ok());
  EXPECT_EQ(token_->FindSigningKey("by-id", "id-8").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TokenTest, KeysNeverLeaveTheHsm) {
  ASSERT_TRUE(token_->GenerateKeyPair(KeyAlgorithm::kEcdsaP256, "sensitive-p256", "s1").ok());
  ASSERT_TRUE(token_->GenerateKeyPair(KeyAlgorithm::kEcdsaP384, "sensitive-p384", "s2").ok());
  for (const std::string label : {"sensitive-p256", "sensitive-p384"}) {
    SCOPED_TRACE(label);
    const absl::StatusOr<KeyInfo> info = token_->DescribeKey(label);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_TRUE(info->sensitive);
    EXPECT_FALSE(info->extractable);
    EXPECT_TRUE(info->always_sensitive);
    EXPECT_TRUE(info->never_extractable);
  }

  // Ask the module for the private value directly, as any other code in the process could.
  const RawModule raw;
  ASSERT_NE(raw.functions(), nullptr);
  const RawSession session(raw.functions(), raw.SlotOf(shared_->config.token_label));
  ASSERT_EQ(session.open_rv(), CKR_OK);
  // The pool has logged the application in already.
  const CK_RV login = raw.functions()->C_Login(
      session.handle(), CKU_USER,
      reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(shared_->config.pin.data())),
      shared_->config.pin.size());
  ASSERT_TRUE(login == CKR_OK || login == CKR_USER_ALREADY_LOGGED_IN) << login;
  for (const std::string label : {"sensitive-p256", "sensitive-p384"}) {
    SCOPED_TRACE(label);
    CK_OBJECT_CLASS private_key = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE search[] = {{CKA_CLASS, &private_key, sizeof(private_key)},
                             {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
    ASSERT_EQ(raw.functions()->C_FindObjectsInit(session.handle(), search, 2), CKR_OK);
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_ULONG found = 0;
    ASSERT_EQ(raw.functions()->C_FindObjects(session.handle(), &key, 1, &found), CKR_OK);
    ASSERT_EQ(raw.functions()->C_FindObjectsFinal(session.handle()), CKR_OK);
    ASSERT_EQ(found, 1u);
    unsigned char value[128];
    CK_ATTRIBUTE attribute = {CKA_VALUE, value, sizeof(value)};
    EXPECT_EQ(raw.functions()->C_GetAttributeValue(session.handle(), key, &attribute, 1),
              CKR_ATTRIBUTE_SENSITIVE);
    EXPECT_EQ(attribute.ulValueLen, CK_UNAVAILABLE_INFORMATION);
  }
}

TEST_F(TokenTest, Pkcs11ToolReportsKeysAsNeverExtractable) {
  ASSERT_TRUE(token_->GenerateKeyPair(KeyAlgorithm::kEcdsaP256, "tool-p256", "t1").ok());
  ASSERT_TRUE(token_->GenerateKeyPair(KeyAlgorithm::kEcdsaP384, "tool-p384", "t2").ok());
  // pkcs11-tool finds the token directory through SOFTHSM2_CONF, which the fixture set.
  const std::string output =
      RunCommand(std::string("pkcs11-tool --module ") + kSoftHsmModulePath + " --token-label " +
                 shared_->config.token_label + " --login --pin " + shared_->config.pin +
                 " --list-objects --type privkey 2>&1");
  for (const std::string label : {"tool-p256", "tool-p384"}) {
    SCOPED_TRACE(label);
    const size_t at = output.find("label:      " + label + "\n");
    ASSERT_NE(at, std::string::npos) << output;
    const size_t next = output.find("Private Key Object", at);
    const std::string block = output.substr(at, next == std::string::npos ? next : next - at);
    EXPECT_NE(block.find("never extractable"), std::string::npos) << block;
    EXPECT_NE(block.find("always sensitive"), std::string::npos) << block;
  }
}

TEST_F(TokenTest, ListsKeys) {
  ASSERT_TRUE(token_->GenerateKeyPair(KeyAlgorithm::kEcdsaP384, "listed", "l1").ok());
  const absl::StatusOr<std::vector<KeyInfo>> keys = token_->ListKeys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  int matches = 0;
  for (const KeyInfo& key : *keys) {
    if (key.label != "listed") continue;
    ++matches;
    EXPECT_EQ(key.id, "l1");
    EXPECT_EQ(key.algorithm, KeyAlgorithm::kEcdsaP384);
    EXPECT_TRUE(key.never_extractable);
  }
  EXPECT_EQ(matches, 1);
}

TEST_F(TokenTest, RecoversWhenSessionsAreClosedBehindItsBack) {
  const std::unique_ptr<Token> token = OpenFreshToken("closed-sessions", 2);
  ASSERT_NE(token, nullptr);
  const std::unique_ptr<SigningKey> key = NewKey(*token, KeyAlgorithm::kEcdsaP256, "k");
  ASSERT_NE(key, nullptr);
  ExpectSignsAndVerifies(*key, "before");
  const uint64_t recoveries = token->session_recoveries();

  const RawModule raw;
  ASSERT_NE(raw.functions(), nullptr);
  ASSERT_EQ(raw.functions()->C_CloseAllSessions(raw.SlotOf("closed-sessions")), CKR_OK);

  ExpectSignsAndVerifies(*key, "after");
  EXPECT_EQ(token->session_recoveries(), recoveries + 1);
  // The pool is whole again: every session signs without another recovery.
  for (int i = 0; i < 10; ++i) ExpectSignsAndVerifies(*key, "again");
  EXPECT_TRUE(token->DescribeKey("k").ok());
  EXPECT_EQ(token->session_recoveries(), recoveries + 1);
}

TEST_F(TokenTest, RecoversWhenTheTokenIsLoggedOut) {
  const std::unique_ptr<Token> token = OpenFreshToken("logged-out", 2);
  ASSERT_NE(token, nullptr);
  const std::unique_ptr<SigningKey> key = NewKey(*token, KeyAlgorithm::kEcdsaP384, "k");
  ASSERT_NE(key, nullptr);
  ExpectSignsAndVerifies(*key, "before");
  const uint64_t recoveries = token->session_recoveries();
  {
    const RawModule raw;
    ASSERT_NE(raw.functions(), nullptr);
    const RawSession session(raw.functions(), raw.SlotOf("logged-out"));
    ASSERT_EQ(session.open_rv(), CKR_OK);
    // Login state belongs to the application: this logs out every session of the pool too.
    ASSERT_EQ(raw.functions()->C_Logout(session.handle()), CKR_OK);
  }
  ExpectSignsAndVerifies(*key, "after");
  EXPECT_EQ(token->session_recoveries(), recoveries + 1);
}

TEST_F(TokenTest, OneThreadRecoversForAllWhileTheOthersWait) {
  constexpr int kThreads = 4;
  const std::unique_ptr<Token> token = OpenFreshToken("shared-recovery", kThreads);
  ASSERT_NE(token, nullptr);
  const std::unique_ptr<SigningKey> key = NewKey(*token, KeyAlgorithm::kEcdsaP256, "k");
  ASSERT_NE(key, nullptr);
  const RawModule raw;
  ASSERT_NE(raw.functions(), nullptr);
  ASSERT_EQ(raw.functions()->C_CloseAllSessions(raw.SlotOf("shared-recovery")), CKR_OK);
  const uint64_t recoveries = token->session_recoveries();

  // Every thread meets a closed session at about the same time; one recovery must serve all.
  std::barrier start(kThreads);
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < 20; ++i) {
        const std::string digest = Digest(EVP_sha256(), std::to_string(t * 100 + i));
        const absl::StatusOr<std::string> signature = key->SignDigest(digest);
        if (!signature.ok() || !Verifies(key->public_key(), digest, *signature)) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(token->session_recoveries(), recoveries + 1);
}

TEST_F(TokenTest, SignsFromManyThreads) {
  constexpr int kThreads = 8;
  constexpr int kSignaturesPerThread = 500;
  const std::unique_ptr<SigningKey> key =
      NewKey(*token_, KeyAlgorithm::kEcdsaP256, "concurrent-p256");
  ASSERT_NE(key, nullptr);
  std::atomic<int> signed_and_verified = 0;
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSignaturesPerThread; ++i) {
        const std::string digest =
            Digest(EVP_sha256(), std::to_string(t) + "/" + std::to_string(i));
        const absl::StatusOr<std::string> signature = key->SignDigest(digest);
        if (signature.ok() && Verifies(key->public_key(), digest, *signature)) {
          ++signed_and_verified;
        } else {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(signed_and_verified, kThreads * kSignaturesPerThread);
}

// Private-key session objects (CKA_TOKEN false) with this label, as another part of the process
// would find them, and whether each is sensitive and refuses its value.
struct SessionCopies {
  int count = 0;
  int protected_count = 0;
};

SessionCopies FindSessionCopies(const RawModule& raw, const std::string& token_label,
                                const std::string& label) {
  SessionCopies copies;
  const RawSession session(raw.functions(), raw.SlotOf(token_label));
  EXPECT_EQ(session.open_rv(), CKR_OK);
  CK_OBJECT_CLASS private_key = CKO_PRIVATE_KEY;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE search[] = {{CKA_CLASS, &private_key, sizeof(private_key)},
                           {CKA_TOKEN, &no, sizeof(no)},
                           {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  CK_OBJECT_HANDLE found[8];
  CK_ULONG count = 0;
  EXPECT_EQ(raw.functions()->C_FindObjectsInit(session.handle(), search, 3), CKR_OK);
  EXPECT_EQ(raw.functions()->C_FindObjects(session.handle(), found, 8, &count), CKR_OK);
  EXPECT_EQ(raw.functions()->C_FindObjectsFinal(session.handle()), CKR_OK);
  copies.count = static_cast<int>(count);
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE;
    CK_ATTRIBUTE flags[] = {{CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
                            {CKA_EXTRACTABLE, &extractable, sizeof(extractable)}};
    unsigned char value[128];
    CK_ATTRIBUTE secret = {CKA_VALUE, value, sizeof(value)};
    if (raw.functions()->C_GetAttributeValue(session.handle(), found[i], flags, 2) == CKR_OK &&
        sensitive == CK_TRUE && extractable == CK_FALSE &&
        raw.functions()->C_GetAttributeValue(session.handle(), found[i], &secret, 1) ==
            CKR_ATTRIBUTE_SENSITIVE) {
      ++copies.protected_count;
    }
  }
  return copies;
}

// SoftHSM2 signs faster from a session object; the copy must stay as protected as the token key,
// exist once however many threads sign, not make the label ambiguous, and go away with the key.
TEST_F(TokenTest, SignsWithAProtectedSessionCopyPerSessionThatDiesWithTheKey) {
  constexpr int kPoolSize = 4;
  const std::unique_ptr<Token> token = OpenFreshToken("session-copy", kPoolSize);
  ASSERT_NE(token, nullptr);
  std::unique_ptr<SigningKey> key = NewKey(*token, KeyAlgorithm::kEcdsaP256, "copied");
  ASSERT_NE(key, nullptr);
  const RawModule raw;
  ASSERT_NE(raw.functions(), nullptr);
  EXPECT_EQ(FindSessionCopies(raw, "session-copy", "copied").count, 0);  // made on first use

  // One thread at a time gets the same session back: one copy, not one per signature.
  for (int i = 0; i < 5; ++i) ExpectSignsAndVerifies(*key, "sequential");
  SessionCopies copies = FindSessionCopies(raw, "session-copy", "copied");
  EXPECT_EQ(copies.count, 1);
  EXPECT_EQ(copies.protected_count, 1);

  // Threads signing together use several sessions, each with its own copy, never more.
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kPoolSize; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) ExpectSignsAndVerifies(*key, "threaded");
    });
  }
  for (std::thread& thread : threads) thread.join();
  copies = FindSessionCopies(raw, "session-copy", "copied");
  EXPECT_GE(copies.count, 1);
  EXPECT_LE(copies.count, kPoolSize);
  EXPECT_EQ(copies.protected_count, copies.count);
  // Token look-ups still see one key.
  EXPECT_TRUE(token->DescribeKey("copied").ok());
  EXPECT_TRUE(token->FindSigningKey("copied").ok());

  // The pool's sessions closed behind its back take the copies with them; the key makes new ones.
  ASSERT_EQ(raw.functions()->C_CloseAllSessions(raw.SlotOf("session-copy")), CKR_OK);
  ExpectSignsAndVerifies(*key, "after recovery");
  copies = FindSessionCopies(raw, "session-copy", "copied");
  EXPECT_EQ(copies.count, 1);
  EXPECT_EQ(copies.protected_count, 1);

  key.reset();
  EXPECT_EQ(FindSessionCopies(raw, "session-copy", "copied").count, 0);
  EXPECT_TRUE(token->DescribeKey("copied").ok());  // the token key itself stays
}

// SoftHSM2 builds a copy attribute by attribute, the source's CKA_TOKEN (true) before the
// template's false, so an unguarded search from another session could meet a half-made copy as a
// second token key with the same label and id. Keys making their copies while other threads look
// the key up must never make either side see two.
TEST_F(TokenTest, LookUpsNeverSeeAKeyCopyBeingMade) {
  constexpr int kPoolSize = 4;
  const std::unique_ptr<Token> token = OpenFreshToken("copy-race", kPoolSize);
  ASSERT_NE(token, nullptr);
  ASSERT_NE(NewKey(*token, KeyAlgorithm::kEcdsaP256, "raced"), nullptr);
  std::atomic<bool> done{false};
  std::atomic<int> ambiguous_lookups{0};
  std::vector<std::thread> lookers;
  for (int t = 0; t < 2; ++t) {
    lookers.emplace_back([&] {
      while (!done.load()) {
        if (!token->DescribeKey("raced").ok()) ambiguous_lookups.fetch_add(1);
      }
    });
  }
  std::vector<std::thread> signers;
  for (int t = 0; t < kPoolSize; ++t) {
    signers.emplace_back([&] {
      // Every new key object copies the token key into each session it signs on.
      for (int i = 0; i < 100; ++i) {
        absl::StatusOr<std::unique_ptr<SigningKey>> key = token->FindSigningKey("raced");
        ASSERT_TRUE(key.ok()) << key.status();
        ExpectSignsAndVerifies(**key, "while others look");
      }
    });
  }
  for (std::thread& signer : signers) signer.join();
  done.store(true);
  for (std::thread& looker : lookers) looker.join();
  EXPECT_EQ(ambiguous_lookups.load(), 0);
}

TEST_F(TokenTest, WrongPinIsPermissionDenied) {
  absl::StatusOr<TempSoftHsmToken> created = TempSoftHsmToken::CreateToken("wrong-pin");
  ASSERT_TRUE(created.ok()) << created.status();
  TokenConfig config = created->config;
  config.pin = "not-the-pin";
  const absl::StatusOr<std::unique_ptr<Token>> token = Token::Open(config);
  EXPECT_EQ(token.status().code(), absl::StatusCode::kPermissionDenied) << token.status();
  EXPECT_EQ(AsStd(token.status().message()).find("not-the-pin"), std::string_view::npos);
  // The right PIN still works afterwards.
  EXPECT_TRUE(Token::Open(created->config).ok());
}

TEST_F(TokenTest, UnknownTokenLabelIsNotFound) {
  TokenConfig config = shared_->config;
  config.token_label = "no-such-token";
  EXPECT_EQ(Token::Open(config).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TokenTest, MissingModuleIsNotFound) {
  TokenConfig config = shared_->config;
  config.module_path = "/nonexistent/libpkcs11.so";
  EXPECT_EQ(Token::Open(config).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TokenTest, DuplicateKeyLabelIsAlreadyExists) {
  ASSERT_TRUE(token_->GenerateKeyPair(KeyAlgorithm::kEcdsaP256, "duplicate", "d1").ok());
  EXPECT_EQ(token_->GenerateKeyPair(KeyAlgorithm::kEcdsaP384, "duplicate", "d2").status().code(),
            absl::StatusCode::kAlreadyExists);
  // Nothing was created by the refused call.
  const absl::StatusOr<KeyInfo> info = token_->DescribeKey("duplicate");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->algorithm, KeyAlgorithm::kEcdsaP256);
}

TEST_F(TokenTest, MissingKeysAreNotFound) {
  EXPECT_EQ(token_->FindSigningKey("no-such-key").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(token_->DescribeKey("no-such-key").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(token_->FindSigningKey("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(token_->GenerateKeyPair(KeyAlgorithm::kEcdsaP256, "", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TokenTest, DigestOfTheWrongLengthIsInvalidArgument) {
  const std::unique_ptr<SigningKey> p256 = NewKey(*token_, KeyAlgorithm::kEcdsaP256, "len-p256");
  const std::unique_ptr<SigningKey> p384 = NewKey(*token_, KeyAlgorithm::kEcdsaP384, "len-p384");
  ASSERT_NE(p256, nullptr);
  ASSERT_NE(p384, nullptr);
  for (const size_t length : {0, 20, 31, 33, 48, 64}) {
    EXPECT_EQ(p256->SignDigest(std::string(length, 'x')).status().code(),
              absl::StatusCode::kInvalidArgument)
        << length;
  }
  for (const size_t length : {0, 32, 47, 49, 64}) {
    EXPECT_EQ(p384->SignDigest(std::string(length, 'x')).status().code(),
              absl::StatusCode::kInvalidArgument)
        << length;
  }
}

TEST_F(TokenTest, InitializingALabelTwiceIsAlreadyExists) {
  ASSERT_TRUE(Token::InitializeToken(kSoftHsmModulePath, "twice", "so-pin-1", "user-pin-1").ok());
  const absl::Status again =
      Token::InitializeToken(kSoftHsmModulePath, "twice", "so-pin-2", "user-pin-2");
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  // The first token keeps its PIN.
  TokenConfig config{
      .module_path = kSoftHsmModulePath, .token_label = "twice", .pin = "user-pin-1"};
  EXPECT_TRUE(Token::Open(config).ok());
}

TEST_F(TokenTest, InitializeTokenValidatesArguments) {
  EXPECT_EQ(Token::InitializeToken(kSoftHsmModulePath, "", "so", "user").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Token::InitializeToken(kSoftHsmModulePath, std::string(33, 'x'), "so", "user").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Token::InitializeToken(kSoftHsmModulePath, "no-user-pin", "so", "").code(),
            absl::StatusCode::kInvalidArgument);
}

// A PIN the token does not take is refused before anything is made: no token is left behind
// without a user PIN, and the next call with good PINs makes one that opens.
TEST_F(TokenTest, APinTheTokenRefusesLeavesNoTokenBehind) {
  const absl::Status refused =
      Token::InitializeToken(kSoftHsmModulePath, "short-pin", "so-pin-1", "123");
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
  EXPECT_EQ(refused.message(), "user_pin: 3 bytes; the token takes 4 to 255") << refused;
  ASSERT_TRUE(
      Token::InitializeToken(kSoftHsmModulePath, "short-pin", "so-pin-1", "user-pin-1").ok());
  TokenConfig config{
      .module_path = kSoftHsmModulePath, .token_label = "short-pin", .pin = "user-pin-1"};
  EXPECT_TRUE(Token::Open(config).ok());
}

// A token that was initialised but never got its user PIN (a crash between the two steps) gets it
// from the next call, instead of AlreadyExists and a token nobody can log in to.
TEST_F(TokenTest, ATokenLeftWithoutAUserPinGetsItOnTheNextCall) {
  const RawModule raw;
  ASSERT_NE(raw.functions(), nullptr);
  const CK_SLOT_ID free_slot = raw.FreeSlot();
  ASSERT_NE(free_slot, ~0UL);
  std::string so_pin = "so-pin-half";
  CK_UTF8CHAR label[32];
  std::memset(label, ' ', sizeof(label));
  std::memcpy(label, "half-made", 9);
  ASSERT_EQ(raw.functions()->C_InitToken(free_slot, reinterpret_cast<CK_UTF8CHAR*>(so_pin.data()),
                                         so_pin.size(), label),
            CKR_OK);
  TokenConfig config{
      .module_path = kSoftHsmModulePath, .token_label = "half-made", .pin = "user-pin-half"};
  EXPECT_FALSE(Token::Open(config).ok());  // no user PIN yet

  ASSERT_TRUE(
      Token::InitializeToken(kSoftHsmModulePath, "half-made", so_pin, "user-pin-half").ok());
  EXPECT_TRUE(Token::Open(config).ok());
  EXPECT_EQ(Token::InitializeToken(kSoftHsmModulePath, "half-made", so_pin, "user-pin-half").code(),
            absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace keyline::hsm
