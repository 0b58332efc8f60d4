// Append-only storage for a CA's encoded revokedCertificates entries, in insertion order, with a
// set of the serials it holds so that revoking a certificate twice stores it once.
//
// Memory: entries sit back to back in 1 MiB chunks (about 45 bytes each, so a million entries use
// about 44 MB), and the set holds 8 bytes per slot (a 4-byte handle and 4 bytes of hash; 2^21
// slots, 18 MB, at a million). Chunks are never reallocated, so growing never copies the stored
// entries or doubles their memory, and bytes below a Mark never change: readers may use them
// without a lock while entries are appended. (The set does double when it grows: Reserve first.)
//
// Thread safety: none of its own. CrlBuilder calls every method under its lock; only the bytes
// behind the pieces Pieces() returns may be read after the lock is released.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"

namespace keyline::ca {

class CrlEntryArena {
 public:
  // A point in insertion order: everything appended before it lies below it.
  struct Mark {
    size_t chunk = 0;
    size_t offset = 0;   // within `chunk`
    size_t entries = 0;  // how many entries lie below
  };

  CrlEntryArena();
  CrlEntryArena(const CrlEntryArena&) = delete;  // the set's hasher points back at the arena
  CrlEntryArena& operator=(const CrlEntryArena&) = delete;

  // Sizes the serial set for `entries` in all, so a bulk load does not rehash as it goes.
  void Reserve(size_t entries);

  // Stores `entry` (as EncodeRevokedEntry wrote it) unless its serial is already stored; returns
  // whether it was stored. ResourceExhausted when the arena's 4 GiB are used up.
  [[nodiscard]] absl::StatusOr<bool> Append(std::string_view entry);

  Mark End() const;

  // The stored bytes between two marks (from <= to), as pieces to concatenate in order. The
  // pieces stay valid and unchanged for the arena's lifetime.
  std::vector<std::string_view> Pieces(const Mark& from, const Mark& to) const;

  size_t size() const { return set_.size(); }

  // Bytes allocated for chunks and the serial set.
  size_t MemoryBytes() const;

 private:
  static constexpr unsigned kChunkBits = 20;
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;
  static constexpr size_t kMaxChunks = size_t{1} << (32 - kChunkBits);  // handles are 32 bits

  // Set members are the entry's handle (chunk << kChunkBits | offset) in the low 32 bits and 32
  // bits of its serial's hash in the high ones. Hashing and comparing read the stored serial only
  // when the hash bits match, so an insert touches the arena once, not at every probe.
  struct SerialHash {
    size_t operator()(uint64_t member) const;
  };
  struct SerialEq {
    const CrlEntryArena* arena;
    bool operator()(uint64_t a, uint64_t b) const {
      return (a >> 32) == (b >> 32) &&
             arena->SerialAt(static_cast<uint32_t>(a)) == arena->SerialAt(static_cast<uint32_t>(b));
    }
  };
  static uint32_t HashSerial(std::string_view serial_content);

  std::string_view SerialAt(uint32_t handle) const;

  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<size_t> chunk_used_;  // bytes stored in each chunk
  absl::flat_hash_set<uint64_t, SerialHash, SerialEq> set_;
};

}  // namespace keyline::ca
