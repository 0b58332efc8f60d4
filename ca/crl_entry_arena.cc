#include "ca/crl_entry_arena.h"

#include <cstring>

#include "ca/crl_der.h"

namespace keyline::ca {
namespace {

uint64_t Load64(const char* bytes) {
  uint64_t value;
  std::memcpy(&value, bytes, sizeof(value));
  return value;
}

}  // namespace

CrlEntryArena::CrlEntryArena() : set_(0, SerialHash{}, SerialEq{this}) {}

uint32_t CrlEntryArena::HashSerial(std::string_view serial) {
  // Serials are at most 21 octets: fold them into 64 bits and finish with MurmurHash3's fmix64.
  // A few nanoseconds, and no seed: serials come from our CSPRNG, not from an attacker.
  uint64_t hash = serial.size() * 0x9e3779b97f4a7c15ull;
  size_t i = 0;
  for (; i + 8 <= serial.size(); i += 8) {
    hash = (hash ^ Load64(serial.data() + i)) * 0xbf58476d1ce4e5b9ull;
    hash ^= hash >> 31;
  }
  for (; i < serial.size(); ++i) {
    hash = (hash ^ static_cast<unsigned char>(serial[i])) * 0x100000001b3ull;
  }
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdull;
  hash ^= hash >> 33;
  return static_cast<uint32_t>(hash >> 32);
}

size_t CrlEntryArena::SerialHash::operator()(uint64_t member) const {
  // The set takes its probe position from the high bits and its filter byte from the low seven:
  // spread the 32 stored hash bits over both.
  return static_cast<size_t>((member >> 32) * 0x9e3779b97f4a7c15ull);
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

absl::StatusOr<bool> CrlEntryArena::Append(std::string_view entry) {
  if (chunks_.empty() || chunk_used_.back() + entry.size() > kChunkSize) {
    if (chunks_.size() == kMaxChunks) {
      return absl::ResourceExhaustedError("CRL entries: the arena's 4 GiB are used up");
    }
    chunks_.push_back(std::make_unique_for_overwrite<char[]>(kChunkSize));
    chunk_used_.push_back(0);
  }
  // Copied in before the set looks it up, so one probe both finds a duplicate and inserts; the
  // bytes only count as stored once `used` moves past them.
  size_t& used = chunk_used_.back();
  std::memcpy(chunks_.back().get() + used, entry.data(), entry.size());
  const auto handle = static_cast<uint32_t>(((chunks_.size() - 1) << kChunkBits) | used);
  const uint32_t hash = HashSerial(SerialContentOfEntry(entry.data()));
  if (!set_.insert(uint64_t{hash} << 32 | handle).second) return false;
  used += entry.size();
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
  return chunks_.size() * kChunkSize + set_.capacity() * (sizeof(uint64_t) + 1) +
         chunks_.capacity() * sizeof(chunks_[0]) + chunk_used_.capacity() * sizeof(size_t);
}

}  // namespace keyline::ca
