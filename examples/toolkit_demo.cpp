// toolkit_demo: the benchmark-tool toolkit, one section per piece.
//   1. KeyFormatter: keys into a buffer, ID digits patched inside a pre-encoded RESP command, keys parsed back;
//   2. cluster slots: key_slot, SlotTags spreading IDs over slots, the IDs one node's slots own;
//   3. keyspace shapes: pre-populating a tracker reproducibly;
//   4. operation mixes: "get:0.8,set:0.1,insert:0.05,delete:0.05" routed to the right iterators;
//   5. snapshots: what changed since;
//   6. reference sets: coverage of a ground truth, erase that spares a protect list;
//   7. persistence: save in one phase, load in another.
// Usage: toolkit_demo [directory for the saved file; default: the system temp directory]
#include <keyspace/keyspace.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
    using namespace keyspace;
    const std::filesystem::path dir = argc > 1 ? std::filesystem::path(argv[1]) : std::filesystem::temp_directory_path();

    std::puts("1. KeyFormatter");
    const KeyFormatter fmt("user", "", ":", 12);
    std::array<char, 64> buf{};
    const std::size_t n = fmt.format(42, buf);
    std::printf("   key of 42: %.*s\n", static_cast<int>(n), buf.data());
    const std::string key0 = fmt.to_string(0);
    std::string get = "*2\r\n$3\r\nGET\r\n$" + std::to_string(key0.size()) + "\r\n" + key0 + "\r\n";
    char* digits = get.data() + get.find(key0) + fmt.id_offset();
    fmt.write_id_digits(digits, 123456); // per request: only the 12 digits change
    std::printf("   patched GET carries: %s\n", get.substr(get.find("user"), key0.size()).c_str());
    const ParsedKey back = fmt.parse("user:000000000777"); // e.g. a SCAN reply
    std::printf("   parsed back: prefix '%.*s', id %llu\n", static_cast<int>(back.prefix.size()), back.prefix.data(),
                static_cast<unsigned long long>(back.id));

    std::puts("2. Cluster slots");
    std::printf("   key_slot(\"foo\") = %u; {user1000}.following and {user1000}.followers share slot %u\n",
                key_slot("foo"), key_slot("{user1000}.following"));
    const SlotTags& tags = SlotTags::instance();
    const std::string tagged = fmt.to_string(5, tags.tag_for_id(5));
    std::printf("   ID 5 with its spreading tag: %s -> slot %u\n", tagged.c_str(), key_slot(tagged));
    const SlotSet node_a = SlotSet::parse("0-5460"); // what CLUSTER SLOTS says one node serves
    std::uint64_t mine = 0;
    for (const std::uint64_t id : SlotIds::tagged(node_a, 0, 1'000'000)) {
        if (key_slot(fmt.to_string(id, tags.tag_for_id(id))) > 5460) return 1; // never: the key is node A's
        ++mine;
    }
    std::printf("   node 0-5460 owns %llu of 1000000 tagged IDs (1/3 of the slots)\n", static_cast<unsigned long long>(mine));

    std::puts("3. Keyspace shapes");
    PrefixTracker users("user", 1'000'000);
    const std::uint64_t added = Shape::aged(0.2, 0.9).apply(users, 0, 1'000'000, /*seed*/ 7);
    std::printf("   aged(0.2..0.9) added %llu IDs (expected about %.0f)\n", static_cast<unsigned long long>(added),
                Shape::aged(0.2, 0.9).expected_density(1'000'000) * 1e6);

    std::puts("4. Operation mix");
    const Snapshot before(users);
    OpStream ops(users, OpMix::parse("get:0.8,set:0.1,insert:0.05,delete:0.05"), /*seed*/ 1);
    std::array<std::uint64_t, op_count> done{};
    for (int i = 0; i < 100'000; ++i)
        if (const Operation op = ops.next(); op.id) ++done[static_cast<std::size_t>(op.op)];
    for (std::size_t k = 0; k < op_count; ++k)
        std::printf("   %-9s %llu\n", std::string(op_name(static_cast<Op>(k))).c_str(),
                    static_cast<unsigned long long>(done[k]));

    std::puts("5. Snapshots");
    std::printf("   since the snapshot: %llu added, %llu removed\n",
                static_cast<unsigned long long>(added_since(users, before).count()),
                static_cast<unsigned long long>(removed_since(users, before).count()));

    std::puts("6. Reference sets");
    ReferenceSet truth;
    truth.add_all(before);
    const Coverage c = coverage(truth, users);
    std::printf("   %.2f%% of the ground truth present; at least 95%%: %s\n", 100 * c.fraction(),
                c.at_least(0.95) ? "yes" : "no");
    ReferenceSet protect;
    protect.add_range(0, 1000);
    const EraseResult r = erase_unprotected(users, protect, 0, 2000, ~0ull, [](std::uint64_t) {});
    std::printf("   erased %llu IDs in [0, 2000), spared %llu protected ones\n",
                static_cast<unsigned long long>(r.erased), static_cast<unsigned long long>(r.spared));

    std::puts("7. Persistence");
    const std::filesystem::path file = dir / "toolkit_demo_users.ksp";
    save_tracker(users, file);
    const auto loaded = load_tracker(file); // e.g. in the query phase's process
    const bool same = loaded->count() == users.count() && added_since(*loaded, Snapshot(users)).empty();
    std::printf("   saved %llu IDs (%llu bytes), loaded back: %s\n", static_cast<unsigned long long>(users.count()),
                static_cast<unsigned long long>(std::filesystem::file_size(file)), same ? "identical" : "DIFFERENT");
    std::filesystem::remove(file);
    return same ? 0 : 1;
}
