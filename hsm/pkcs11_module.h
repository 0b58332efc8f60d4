// A loaded PKCS#11 module (any vendor's library, by path) and the slot queries Keyline needs.
//
// PKCS#11 modules are process-global: a second dlopen of the same file returns the same library
// and a second C_Initialize fails with CKR_CRYPTOKI_ALREADY_INITIALIZED. So Load hands out
// shared references to one instance per module file; the last reference to go calls C_Finalize
// and dlclose, which lets a later Load start afresh (SoftHSM2 then re-reads SOFTHSM2_CONF).
// This registry is the one piece of process-wide state in hsm/, forced by the PKCS#11 model.
//
// Thread safety: Load and every const method may be called from many threads. The module is
// initialised with CKF_OS_LOCKING_OK, so its functions may be called concurrently too.
#pragma once

#include <p11-kit/pkcs11.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace keyline::hsm {

class Pkcs11Module {
 public:
  // NotFound when the file does not exist, FailedPrecondition when it cannot be loaded or is not
  // a PKCS#11 module, the mapped CKR_* of C_Initialize otherwise.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<Pkcs11Module>> Load(const std::string& path);

  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  // The module's function table; valid while this object lives.
  CK_FUNCTION_LIST* functions() const { return functions_; }
  const std::string& path() const { return path_; }

  // Slots that hold a token (initialised or not).
  [[nodiscard]] absl::StatusOr<std::vector<CK_SLOT_ID>> SlotsWithToken() const;

  // The slot whose initialised token has this CKA_LABEL (the 32-byte space-padded label of
  // CK_TOKEN_INFO, trimmed). NotFound when none has it; the first slot when several do.
  [[nodiscard]] absl::StatusOr<CK_SLOT_ID> FindTokenSlot(std::string_view label) const;

  // A slot whose token is not initialised yet (SoftHSM2 always keeps one). FailedPrecondition
  // when there is none.
  [[nodiscard]] absl::StatusOr<CK_SLOT_ID> FindUninitializedSlot() const;

  // Held while initialising tokens, so that two threads cannot both pass the "label is free"
  // check. It does not protect against other processes.
  absl::Mutex& token_initialization_mutex() const { return token_initialization_mutex_; }

 private:
  struct LibraryCloser {
    void operator()(void* library) const;
  };
  using LibraryHandle = std::unique_ptr<void, LibraryCloser>;

  // Calls C_Finalize when the module was initialised by us; destroyed before the library is
  // closed.
  struct Finalizer {
    void operator()(CK_FUNCTION_LIST* functions) const;
  };
  using Initialization = std::unique_ptr<CK_FUNCTION_LIST, Finalizer>;

  Pkcs11Module(std::string path, LibraryHandle library, CK_FUNCTION_LIST* functions,
               bool initialized_by_us);
  ~Pkcs11Module() = default;  // only the registry deletes, when Release drops the last reference
  friend struct std::default_delete<Pkcs11Module>;

  // The shared_ptr deleter: drops one reference and unloads on the last.
  static void Release(Pkcs11Module* module);

  std::string path_;
  LibraryHandle library_;  // declared before initialization_ so it is closed after C_Finalize
  CK_FUNCTION_LIST* functions_;
  Initialization initialization_;
  size_t references_ = 0;  // guarded by the registry's mutex
  mutable absl::Mutex token_initialization_mutex_;
};

// The token's CKA_LABEL without the padding PKCS#11 puts in CK_TOKEN_INFO.
std::string TokenLabel(const CK_TOKEN_INFO& info);

}  // namespace keyline::hsm
