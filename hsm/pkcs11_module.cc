#include "hsm/pkcs11_module.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "hsm/pkcs11_status.h"

namespace keyline::hsm {
namespace {

struct Registry {
  absl::Mutex mutex;
  std::map<std::string, std::unique_ptr<Pkcs11Module>> loaded ABSL_GUARDED_BY(mutex);
};

// Never destroyed: modules may still be released by other static destructors at exit.
Registry& GetRegistry() {
  static Registry* registry = new Registry;
  return *registry;
}

// The registry key: the resolved file, so that two spellings of one path share one instance.
std::string CanonicalPath(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

}  // namespace

void Pkcs11Module::LibraryCloser::operator()(void* library) const { dlclose(library); }

void Pkcs11Module::Finalizer::operator()(CK_FUNCTION_LIST* functions) const {
  functions->C_Finalize(nullptr);
}

Pkcs11Module::Pkcs11Module(std::string path, LibraryHandle library, CK_FUNCTION_LIST* functions,
                           bool initialized_by_us)
    : path_(std::move(path)),
      library_(std::move(library)),
      functions_(functions),
      initialization_(initialized_by_us ? functions : nullptr) {}

absl::StatusOr<std::shared_ptr<Pkcs11Module>> Pkcs11Module::Load(const std::string& path) {
  if (!FileExists(path)) {
    return absl::NotFoundError(absl::StrCat("PKCS#11 module ", path, ": no such file"));
  }
  const std::string key = CanonicalPath(path);
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mutex);
  auto entry = registry.loaded.find(key);
  if (entry == registry.loaded.end()) {
    LibraryHandle library(dlopen(key.c_str(), RTLD_NOW | RTLD_LOCAL));
    if (library == nullptr) {
      const char* error = dlerror();
      return absl::FailedPreconditionError(absl::StrCat(
          "PKCS#11 module ", path, ": cannot load: ", error != nullptr ? error : "dlopen failed"));
    }
    auto get_function_list =
        reinterpret_cast<CK_C_GetFunctionList>(dlsym(library.get(), "C_GetFunctionList"));
    CK_FUNCTION_LIST* functions = nullptr;
    if (get_function_list == nullptr || get_function_list(&functions) != CKR_OK ||
        functions == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("PKCS#11 module ", path, ": no usable C_GetFunctionList"));
    }
    // We do not hand the module mutex callbacks: it should use the OS's locks, because the
    // session pool calls it from many threads.
    CK_C_INITIALIZE_ARGS arguments{};
    arguments.flags = CKF_OS_LOCKING_OK;
    const CK_RV rv = functions->C_Initialize(&arguments);
    // Someone outside this registry initialised it already; then finalising is theirs to do.
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      return Pkcs11Status(rv, absl::StrCat("PKCS#11 module ", path, ": C_Initialize"));
    }
    std::unique_ptr<Pkcs11Module> module(
        new Pkcs11Module(key, std::move(library), functions, rv == CKR_OK));
    entry = registry.loaded.emplace(key, std::move(module)).first;
  }
  Pkcs11Module* module = entry->second.get();
  ++module->references_;
  return std::shared_ptr<Pkcs11Module>(module, &Pkcs11Module::Release);
}

void Pkcs11Module::Release(Pkcs11Module* module) {
  Registry& registry = GetRegistry();
  // Unloading under the registry's lock means a concurrent Load waits for C_Finalize to finish
  // instead of meeting a half-finalised module.
  absl::MutexLock lock(&registry.mutex);
  if (--module->references_ == 0) registry.loaded.erase(module->path_);
}

absl::StatusOr<std::vector<CK_SLOT_ID>> Pkcs11Module::SlotsWithToken() const {
  // The slot list can grow between the two calls (SoftHSM2 adds a slot per new token); retry.
  for (int attempt = 0; attempt < 8; ++attempt) {
    CK_ULONG count = 0;
    CK_RV rv = functions_->C_GetSlotList(CK_TRUE, nullptr, &count);
    if (rv != CKR_OK) return Pkcs11Status(rv, "C_GetSlotList");
    if (count == 0) return std::vector<CK_SLOT_ID>();
    std::vector<CK_SLOT_ID> slots(count);
    rv = functions_->C_GetSlotList(CK_TRUE, slots.data(), &count);
    if (rv == CKR_BUFFER_TOO_SMALL) continue;
    if (rv != CKR_OK) return Pkcs11Status(rv, "C_GetSlotList");
    slots.resize(count);
    return slots;
  }
  return absl::UnavailableError("C_GetSlotList: the slot list kept changing");
}

absl::StatusOr<CK_SLOT_ID> Pkcs11Module::FindTokenSlot(std::string_view label) const {
  absl::StatusOr<std::vector<CK_SLOT_ID>> slots = SlotsWithToken();
  if (!slots.ok()) return slots.status();
  for (const CK_SLOT_ID slot : *slots) {
    CK_TOKEN_INFO info{};
    // A token removed since the slot list was read is simply not a match.
    if (functions_->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    if ((info.flags & CKF_TOKEN_INITIALIZED) != 0 && TokenLabel(info) == label) return slot;
  }
  return absl::NotFoundError(absl::StrCat("no token labelled \"", AsAbsl(label), "\" in ", path_));
}

absl::StatusOr<CK_SLOT_ID> Pkcs11Module::FindUninitializedSlot() const {
  absl::StatusOr<std::vector<CK_SLOT_ID>> slots = SlotsWithToken();
  if (!slots.ok()) return slots.status();
  for (const CK_SLOT_ID slot : *slots) {
    CK_TOKEN_INFO info{};
    if (functions_->C_GetTokenInfo(slot, &info) != CKR_OK) continue;
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) return slot;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("no slot with an uninitialised token in ", path_));
}

std::string TokenLabel(const CK_TOKEN_INFO& info) {
  std::string_view label(reinterpret_cast<const char*>(info.label), sizeof(info.label));
  // PKCS#11 pads with spaces; some modules pad with NULs.
  while (!label.empty() && (label.back() == ' ' || label.back() == '\0')) label.remove_suffix(1);
  return std::string(label);
}

}  // namespace keyline::hsm
