// The check's own witness: an inline function in namespace keyspace that reaches the kernels without the
// instruction-set tag. keyspace_isa_tag_check must report it (the test that runs the check on this file expects a
// failure), so a check that stopped seeing call chains would not pass silently.
#include <keyspace/atomic_bitmap.hpp>

#include <cstdint>

namespace keyspace {
inline std::uint64_t isa_tag_check_untagged_witness(const AtomicBitmap& b) { return b.count_range(0, 64); }
} // namespace keyspace

std::uint64_t isa_tag_check_use_witness(const keyspace::AtomicBitmap& b);
std::uint64_t isa_tag_check_use_witness(const keyspace::AtomicBitmap& b) {
    return keyspace::isa_tag_check_untagged_witness(b);
}
