// The integration guide's saving state between phases (docs/integration.md): a load phase saves its trackers; a
// later phase (another process, maybe another day) loads them, adopts them into a registry and reads the keys it
// knows exist. Checks the loaded trackers hold exactly the saved keys and the keys render as the load phase's.
#include <keyspace/keyspace.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

// [guide:save]
/// The end of the load phase: one file per tracker, written atomically (a crash leaves the previous file).
void save_phase(const std::vector<const keyspace::PrefixTracker*>& trackers, const std::filesystem::path& dir) {
    for (std::size_t i = 0; i < trackers.size(); ++i) // the file holds the prefix: any name will do
        keyspace::save_tracker(*trackers[i], dir / (std::to_string(i) + ".ksp"));
}
// [/guide:save]

// [guide:resume]
/// The start of the next phase: the saved trackers, adopted into one registry, and reads over all of them.
std::uint64_t resume_phase(const std::filesystem::path& dir, std::vector<std::string>& sample) {
    keyspace::PrefixGroupsTracker groups;
    for (const auto& file : std::filesystem::directory_iterator(dir))
        groups.adopt(keyspace::load_tracker(file.path())); // registered under its saved prefix; a bad file throws

    const keyspace::GroupKeyFormatter keys; // each item's prefix, then the ID: "user:000000000042"
    std::array<char, 64> key{};
    std::uint64_t reads = 0;
    for (const keyspace::GroupItem& item : groups.iter().set_only().random().seed(7).limit(1000).build()) {
        const std::size_t n = keys.format(item, key); // GET it: the tracker says it exists
        if (reads++ < 3) sample.emplace_back(key.data(), n);
    }
    return reads;
}
// [/guide:resume]

} // namespace

int main() {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("keyspace-guide-phases-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    keyspace::PrefixTracker users(keyspace::TrackerConfig::simple("user:").with_max_id(100'000));
    keyspace::PrefixTracker sessions(keyspace::TrackerConfig::simple("session:").with_max_id(1'000));
    keyspace::Shape::sparse(0.3).apply(users, 0, 100'000, 1);
    sessions.add_range(0, 500);
    save_phase({&users, &sessions}, dir);

    std::vector<std::string> sample;
    const std::uint64_t reads = resume_phase(dir, sample);
    const auto back = keyspace::load_tracker(dir / "0.ksp");
    const bool same = back->count() == users.count() && keyspace::added_since(*back, keyspace::Snapshot(users)).empty() &&
                      keyspace::removed_since(*back, keyspace::Snapshot(users)).empty();
    bool rendered = sample.size() == 3;
    for (const std::string& k : sample) {
        const bool user = k.rfind("user:", 0) == 0;
        const auto f = keyspace::KeyFormatter::for_prefix(user ? "user:" : "session:");
        const auto parsed = f.try_parse(k);
        rendered = rendered && parsed && (user ? users : sessions).exists(parsed->id) && k == f.to_string(parsed->id);
        std::printf("read %s\n", k.c_str());
    }
    std::filesystem::remove_all(dir);
    std::printf("resumed: %llu reads over the loaded trackers; user: loaded back %s\n",
                static_cast<unsigned long long>(reads), same ? "identical" : "DIFFERENT");
    const bool ok = same && rendered && reads == 1000;
    std::puts(ok ? "the next phase sees the load phase's keys" : "MISMATCH");
    return ok ? 0 : 1;
}
