#include "ca/crl_entry_arena.h"

#include <cstring>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "ca/crl_der.h"
#include "common/absl_compat.h"

namespace keyline::ca {

CrlEntryArena::CrlEntryArena() : set_(0, SerialHash{this}, SerialEq{this}) {}

size_t CrlEntryArena::SerialHash::operator()(uint32_t handle) const {
  return (*this)(arena->SerialAt(handle));
}

size_t CrlEntryArena::SerialHash::operator()(std::string_view serial_content) const {
  return absl::Hash<absl::string_view>()(AsAbsl(serial_content));
}

bool CrlEntryArena::SerialEq::operator()(uint32_t handle, std::string_view serial_content) const {
  return arena->SerialAt(handle) == serial_content;
}

std::string_view CrlEntryArena::SerialAt(uint32_t handle) const {
  const char* entry = chunks_[handle >> kChunkBits].get() + (handle & (kChunkSize - 1));
  return SerialContentOfEntry(entry);
}

void CrlEntryArena::Reserve(size_t entries) {
  set_.reserve(entries);
  // About 50 bytes an entry: room for the chunk pointers, not the chunks (those are allocated as
  // they fill, so reserving never costs memory that is not used).
  chunks_.reserve(entries * 64 / kChunkSize + 1);
  chunk_used_.reserve(chunks_.capacity());
}

bool CrlEntryArena::Contains(std::string_view serial_content) const {
  return set_.find(serial_content) != set_.end();
}

absl::StatusOr<bool> CrlEntryArena::Append(std::string_view entry) {
  if (Contains(SerialContentOfEntry(entry.data()))) return false;
  if (chunks_.empty() || chunk_used_.back() + entry.size() > kChunkSize) {
    if (chunks_.size() == kMaxChunks) {
      return absl::ResourceExhaustedError("CRL entries: the arena's 4 GiB are used up");
    }
    chunks_.push_back(std::make_unique_for_overwrite<char[]>(kChunkSize));
    chunk_used_.push_back(0);
  }
  size_t& used = chunk_used_.back();
  std::memcpy(chunks_.back().get() + used, entry.data(), entry.size());
  const auto handle = static_cast<uint32_t>(((chunks_.size() - 1) << kChunkBits) | used);
  used += entry.size();
  set_.insert(handle);
  return true;
}

CrlEntryArena::Mark CrlEntryArena::End() const {
  if (chunks_.empty()) return Mark{};
  return Mark{chunks_.size() - 1, chunk_used_.back(), set_.size()};
}

std::vector<std::string_view> CrlEntryArena::Pieces(const Mark& from, const Mark& to) const {
  std::vector<std::string_view> pieces;
  if (chunks_.empty()) return pieces;
  for (size_t chunk = from.chunk; chunk <= to.chunk; ++chunk) {
    // Chunks before `to`'s are no longer appended to, so their used size is final.
    const size_t begin = chunk == from.chunk ? from.offset : 0;
    const size_t end = chunk == to.chunk ? to.offset : chunk_used_[chunk];
    if (end > begin) pieces.emplace_back(chunks_[chunk].get() + begin, end - begin);
  }
  return pieces;
}

size_t CrlEntryArena::MemoryBytes() const {
  return chunks_.size() * kChunkSize + set_.capacity() * (sizeof(uint32_t) + 1) +
         chunks_.capacity() * sizeof(chunks_[0]) + chunk_used_.capacity() * sizeof(size_t);
}

}  // namespace keyline::ca
