// Prints "key slot" lines (our key_slot) for a few thousand keys: formatted keys, tagged keys, random printable
// strings with braces. tests/toolkit_redis_keyslot.sh compares them with a real server's CLUSTER KEYSLOT.
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
