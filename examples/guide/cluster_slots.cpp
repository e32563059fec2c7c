// The integration guide's cluster slots (docs/integration.md): keys carry a hash tag that puts ID i in slot
// i mod 16384, so each node's connection claims only IDs whose keys that node serves. Checks every key's slot with
// key_slot (the CRC16 Redis uses) and that the nodes together claim every ID once.
#include <keyspace/keyspace.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

namespace {

// [guide:node]
/// The worker of one cluster node: `served` is what CLUSTER SLOTS says the node serves ("0-5460").
std::uint64_t load_node(keyspace::PrefixTracker& users, std::string_view served, std::uint64_t& misrouted) {
    const keyspace::SlotSet slots = keyspace::SlotSet::parse(served);
    const keyspace::SlotTags& tags = keyspace::SlotTags::instance(); // ID i -> slot i mod 16384
    const auto fmt = keyspace::KeyFormatter::for_prefix(users.prefix());
    std::array<char, 64> key{};
    std::uint64_t sent = 0;
    for (const std::uint64_t id : keyspace::SlotIds::tagged(slots, 0, users.capacity())) {
        if (!users.claim(id)) continue; // another worker of this node has it
        const std::size_t n = fmt.format(id, tags.tag_for_id(id), key); // "user:{tag}000000000042"
        misrouted += slots.contains(keyspace::key_slot({key.data(), n})) ? 0 : 1; // SET it on this node
        ++sent;
    }
    return sent;
}
// [/guide:node]

} // namespace

int main() {
    keyspace::PrefixTracker users(keyspace::TrackerConfig::simple("user:").with_max_id(200'000));
    std::uint64_t sent = 0, misrouted = 0;
    for (const char* node : {"0-5460", "5461-10922", "10923-16383"}) {
        const std::uint64_t n = load_node(users, node, misrouted);
        std::printf("node %s: %llu keys\n", node, static_cast<unsigned long long>(n));
        sent += n;
    }
    std::printf("%llu keys sent, %llu to a node that does not serve their slot; tracker %llu\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(misrouted),
                static_cast<unsigned long long>(users.count()));
    const bool ok = misrouted == 0 && sent == 200'000 && users.count() == 200'000;
    std::puts(ok ? "every key on the node that serves its slot" : "MISMATCH");
    return ok ? 0 : 1;
}
