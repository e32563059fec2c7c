// Prints "key slot" lines (our key_slot, or for tagged keys the slot SlotTags assigns) for a few thousand keys:
// formatted keys, tagged keys (also behind prefixes and separators holding '}'), random printable strings with braces. tests/toolkit_redis_keyslot.sh compares them with a real server's CLUSTER KEYSLOT.
#include <keyspace/sampling/rng.hpp>
#include <keyspace/toolkit/cluster.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

int main() {
    const keyspace::KeyFormatter plain("bench"), tagged("user", "t1");
    const keyspace::SlotTags& tags = keyspace::SlotTags::instance();
    const auto emit = [](const std::string& k) { std::printf("%s %u\n", k.c_str(), keyspace::key_slot(k)); };
    for (std::uint64_t id = 0; id < 1000; ++id) emit(plain.to_string(id * 7919));
    for (std::uint64_t id = 0; id < 1000; ++id) emit(plain.to_string(id * 104729, tags.tag_for_id(id * 104729)));
    emit(tagged.to_string(1));
    // Tagged keys from formatters whose prefix or separator holds braces KeyFormatter accepts: printed with
    // SlotTags::slot_of(id), so the server checks that such keys land where SlotIds::tagged says.
    for (const keyspace::KeyFormatter& f : {keyspace::KeyFormatter("a}b"), keyspace::KeyFormatter("}", "", "{s}"),
                                            keyspace::KeyFormatter("we}ird", "", "}{", 4)})
        for (std::uint64_t id = 0; id < 300; ++id) {
            const std::uint64_t v = id * 7919 + 5;
            std::printf("%s %u\n", f.to_string(v, tags.tag_for_id(v)).c_str(), keyspace::SlotTags::slot_of(v));
        }
    for (const char* k : {"foo", "{user1000}.following", "{user1000}.followers", "foo{}{bar}", "foo{{bar}}zap",
                          "foo{bar}{zap}", "foo{bar", "}{", "{}", "{a}"})
        emit(k);
    keyspace::Rng rng(2026);
    static constexpr char alphabet[] = "abcxyzABC0123456789:_-.{}{}";
    for (int i = 0; i < 2000; ++i) {
        std::string k(1 + rng() % 24, 'a');
        for (char& c : k) c = alphabet[rng() % (sizeof(alphabet) - 1)];
        emit(k);
    }
    return 0;
}
