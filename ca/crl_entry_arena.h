// Append-only storage for a CA's encoded revokedCertificates entries, in insertion order, with a
// set of the serials it holds so that revoking a certificate twice stores it once.
//
// Memory: entries sit back to back in 1 MiB chunks (about 50 bytes each, so a million entries use
// about 50 MB), and the set holds a 4-byte handle per entry (about 10 MB at a million). Chunks are
// never reallocated, so growing never copies the stored entries or doubles the memory, and bytes
// below a Mark never change: readers may use them without a lock while entries are appended.
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

  // `serial_content` as SerialIntegerContent returns it.
  bool Contains(std::string_view serial_content) const;

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

  // Set members are handles (chunk << kChunkBits | offset) of stored entries; hashing and
  // comparing them reads the serial out of the entry, so no serial is stored twice.
  struct SerialHash {
    using is_transparent = void;
    const CrlEntryArena* arena;
    size_t operator()(uint32_t handle) const;
    size_t operator()(std::string_view serial_content) const;
  };
  struct SerialEq {
    using is_transparent = void;
    const CrlEntryArena* arena;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t handle, std::string_view serial_content) const;
    bool operator()(std::string_view serial_content, uint32_t handle) const {
      return (*this)(handle, serial_content);
    }
  };

  std::string_view SerialAt(uint32_t handle) const;

  std::vector<std::unique_ptr<char[]>> chunks_;
  std::vector<size_t> chunk_used_;  // bytes stored in each chunk
  absl::flat_hash_set<uint32_t, SerialHash, SerialEq> set_;
};

}  // namespace keyline::ca
