// Signatures per second through Pkcs11SigningKey::SignDigest, next to bare C_SignInit + C_Sign
// on one dedicated session per thread (the ceiling the module allows), both measured in the same
// run on a temporary SoftHSM2 token. Not a test: run it by hand.
//   hsm_sign_benchmark [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "hsm/ecdsa_signature.h"
#include "hsm/key_objects.h"
#include "hsm/pkcs11_module.h"
#include "hsm/pkcs11_session.h"
#include "hsm/session_pool.h"
#include "hsm/testing/temp_softhsm.h"
#include "hsm/token.h"

namespace keyline::hsm {
namespace {

constexpr char kKeyLabel[] = "benchmark-p256";

struct Fixture {
  TempSoftHsmToken token_files;
  std::unique_ptr<Token> token;
  std::unique_ptr<SigningKey> key;
  std::shared_ptr<Pkcs11Module> module;
  CK_SLOT_ID slot = 0;
  std::shared_ptr<SessionPool> pool;  // a second pool on the token, for the overhead benchmark
  std::string digest;
};

std::unique_ptr<Fixture> fixture;

void BM_SignDigest(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<std::string> signature = fixture->key->SignDigest(fixture->digest);
    if (!signature.ok()) {
      state.SkipWithError("SignDigest failed");
      break;
    }
    benchmark::DoNotOptimize(signature);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignDigest)->Threads(1)->Threads(2)->UseRealTime();

// The module's own speed: the thread's own session, the key handle looked up once, r || s out.
void BM_RawPkcs11Sign(benchmark::State& state) {
  CK_FUNCTION_LIST* functions = fixture->module->functions();
  absl::StatusOr<Pkcs11Session> session =
      Pkcs11Session::Open(functions, fixture->slot, state.range(0) != 0);
  std::vector<CK_OBJECT_HANDLE> keys;
  if (!session.ok() ||
      FindKeyObjects(functions, session->handle(), CKO_PRIVATE_KEY, kKeyLabel, "", 1, keys) !=
          CKR_OK ||
      keys.size() != 1) {
    state.SkipWithError("no session or key");
    return;
  }
  if (state.range(1) != 0) {  // sign with a session copy of the key instead of the token object
    CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
    if (CopyKeyToSession(functions, session->handle(), keys[0], copy) != CKR_OK) {
      state.SkipWithError("C_CopyObject failed");
      return;
    }
    keys[0] = copy;
  }
  std::string digest = fixture->digest;
  for (auto _ : state) {
    CK_MECHANISM mechanism{CKM_ECDSA, nullptr, 0};
    unsigned char signature[64];
    CK_ULONG length = sizeof(signature);
    if (functions->C_SignInit(session->handle(), &mechanism, keys[0]) != CKR_OK ||
        functions->C_Sign(session->handle(), reinterpret_cast<CK_BYTE*>(digest.data()),
                          digest.size(), signature, &length) != CKR_OK) {
      state.SkipWithError("C_Sign failed");
      break;
    }
    benchmark::DoNotOptimize(signature);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawPkcs11Sign)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"rw", "session_copy"})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// What SignDigest adds to the module's work: lending a session, and r || s to DER.
void BM_SessionPoolRunOverhead(benchmark::State& state) {
  SessionPool& pool = *fixture->pool;
  for (auto _ : state) {
    absl::Status status = pool.Run("no-op", [](const SessionPool::Lease&) { return CKR_OK; });
    benchmark::DoNotOptimize(status);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SessionPoolRunOverhead)->Threads(1)->Threads(2)->UseRealTime();

void BM_RawSignatureToDer(benchmark::State& state) {
  std::string raw(64, '\x5a');
  for (auto _ : state) {
    absl::StatusOr<std::string> der = EcdsaRawSignatureToDer(raw);
    benchmark::DoNotOptimize(der);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawSignatureToDer);

bool SetUp() {
  absl::StatusOr<TempSoftHsmToken> files = TempSoftHsmToken::CreateToken("benchmark");
  if (!files.ok()) {
    std::fprintf(stderr, "token: %s\n", std::string(files.status().message()).c_str());
    return false;
  }
  fixture = std::make_unique<Fixture>();
  fixture->token_files = *std::move(files);
  absl::StatusOr<std::unique_ptr<Token>> token = Token::Open(fixture->token_files.config);
  if (!token.ok()) return false;
  fixture->token = *std::move(token);
  if (!fixture->token->GenerateKeyPair(KeyAlgorithm::kEcdsaP256, kKeyLabel, "b1").ok()) {
    return false;
  }
  absl::StatusOr<std::unique_ptr<SigningKey>> key = fixture->token->FindSigningKey(kKeyLabel);
  absl::StatusOr<std::shared_ptr<Pkcs11Module>> module = Pkcs11Module::Load(kSoftHsmModulePath);
  if (!key.ok() || !module.ok()) return false;
  fixture->key = *std::move(key);
  fixture->module = *std::move(module);
  absl::StatusOr<CK_SLOT_ID> slot = fixture->module->FindTokenSlot("benchmark");
  if (!slot.ok()) return false;
  fixture->slot = *slot;
  absl::StatusOr<std::shared_ptr<SessionPool>> pool =
      SessionPool::Open(fixture->module, fixture->slot, fixture->token_files.config.pin, 2);
  if (!pool.ok()) return false;
  fixture->pool = *std::move(pool);
  fixture->digest.resize(32);
  RAND_bytes(reinterpret_cast<unsigned char*>(fixture->digest.data()), 32);
  return true;
}

}  // namespace
}  // namespace keyline::hsm

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!keyline::hsm::SetUp()) {
    std::fprintf(stderr, "benchmark setup failed\n");
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  keyline::hsm::fixture.reset();
  return 0;
}
