// Raw access to a PKCS#11 module for tests: the module as another component of the process would
// see it (our own dlopen reference and the shared function table), used to act behind a session
// pool's back (close every session, log out) or to ask for attributes the pool never reads.
#pragma once

#include <dlfcn.h>

#include <memory>
#include <string>

#include <p11-kit/pkcs11.h>

#include "hsm/testing/temp_softhsm.h"

namespace keyline::hsm {

// The module must already be initialised by an open Token.
class RawModule {
 public:
  explicit RawModule(const std::string& path = kSoftHsmModulePath)
      : library_(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    if (library_ == nullptr) return;
    auto get_function_list =
        reinterpret_cast<CK_C_GetFunctionList>(dlsym(library_.get(), "C_GetFunctionList"));
    if (get_function_list != nullptr) get_function_list(&functions_);
  }

  CK_FUNCTION_LIST* functions() const { return functions_; }

  // The slot of the token with this label; ~0 when none.
  CK_SLOT_ID SlotOf(const std::string& label) const {
    return FindSlot([&label](const CK_TOKEN_INFO& info) {
      std::string token_label(reinterpret_cast<const char*>(info.label), sizeof(info.label));
      token_label.erase(token_label.find_last_not_of(' ') + 1);
      return token_label == label;
    });
  }

  // A slot whose token is not initialised yet (SoftHSM2 keeps one free); ~0 when none.
  CK_SLOT_ID FreeSlot() const {
    return FindSlot(
        [](const CK_TOKEN_INFO& info) { return (info.flags & CKF_TOKEN_INITIALIZED) == 0; });
  }

 private:
  template <typename Matches>
  CK_SLOT_ID FindSlot(const Matches& matches) const {
    CK_SLOT_ID slots[64];
    CK_ULONG count = std::size(slots);
    if (functions_->C_GetSlotList(CK_TRUE, slots, &count) != CKR_OK) return ~0UL;
    for (CK_ULONG i = 0; i < count; ++i) {
      CK_TOKEN_INFO info{};
      if (functions_->C_GetTokenInfo(slots[i], &info) == CKR_OK && matches(info)) return slots[i];
    }
    return ~0UL;
  }

  struct Closer {
    void operator()(void* library) const { dlclose(library); }
  };
  std::unique_ptr<void, Closer> library_;
  CK_FUNCTION_LIST* functions_ = nullptr;
};

class RawSession {
 public:
  // `flags` beyond CKF_SERIAL_SESSION: CKF_RW_SESSION to create objects.
  RawSession(CK_FUNCTION_LIST* functions, CK_SLOT_ID slot, CK_FLAGS flags = 0)
      : functions_(functions) {
    open_rv_ =
        functions_->C_OpenSession(slot, CKF_SERIAL_SESSION | flags, nullptr, nullptr, &handle_);
  }
  ~RawSession() {
    if (open_rv_ == CKR_OK) functions_->C_CloseSession(handle_);
  }
  CK_RV open_rv() const { return open_rv_; }
  CK_SESSION_HANDLE handle() const { return handle_; }

 private:
  CK_FUNCTION_LIST* functions_;
  CK_SESSION_HANDLE handle_ = CK_INVALID_HANDLE;
  CK_RV open_rv_;
};

}  // namespace keyline::hsm
